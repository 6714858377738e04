import Foundation
import JobWireProtocol
import JobWireTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `jobwired` executable itself: its ready line, flags and signals.
@Suite("jobwired process", .ownThread)
struct DaemonTests {
    /// The daemon built beside this test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("jobwired")
    }

    /// Starts jobwired; its HTTP listener on a free port unless `arguments` say otherwise (tests run side by side).
    private func launch(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = Self.executable
        let http = arguments.contains("--http-port") || arguments.contains("--no-http") ? [] : ["--http-port", "0"]
        process.arguments = arguments + http
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        return (process, output, errors)
    }

    /// Reads the first line of `pipe` (the ready line).
    private func firstLine(_ pipe: Pipe) -> String {
        var bytes: [UInt8] = []
        while true {
            let chunk = pipe.fileHandleForReading.readData(ofLength: 1)
            guard let byte = chunk.first, byte != UInt8(ascii: "\n") else { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("prints its two ready lines, serves, and exits 0 on SIGTERM after a GoAway")
    func readyServeAndStop() throws {
        let (process, output, _) = try launch(["--port", "0", "--log-level", "error", "--stream-ports", "40000-40009"])
        defer { if process.isRunning { process.terminate() } }
        let line = firstLine(output)
        let prefix = "jobwired listening on 127.0.0.1:"
        #expect(line.hasPrefix(prefix))
        let port = try #require(Int(line.dropFirst(prefix.count)))
        let httpLine = firstLine(output)
        let httpPrefix = "jobwired http listening on 127.0.0.1:"
        #expect(httpLine.hasPrefix(httpPrefix))
        let httpPort = try #require(Int(httpLine.dropFirst(httpPrefix.count)))
        #expect(httpPort > 0 && httpPort != port)

        let client = try TestClient(port: port)
        try client.hello()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        #expect((40000...40009).contains(job.streamPort))

        kill(process.processIdentifier, SIGTERM)
        #expect(try client.waitForClose())
        #expect(client.goAway?.status.reason == Reason.serverShuttingDown)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        #expect(rest.isEmpty, "nothing but the ready lines on stdout")
    }

    @Test("invalid flags are refused with a non-zero exit", arguments: [
        ["--stream-ports", "50000-40000"], ["--port", "70000"], ["--max-frame-bytes", "10"], ["--log-level", "loud"],
        ["--retention", "soon"], ["--http-port", "70000"], ["--http-heartbeat", "1ms"],
    ])
    func invalidFlags(arguments: [String]) throws {
        let (process, _, errors) = try launch(arguments)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.contains("Error"), "\(message)")
    }

    @Test("without keys it refuses a non-loopback address unless told, and says why")
    func developmentModeStaysLocal() throws {
        let (process, _, errors) = try launch(["--host", "0.0.0.0", "--port", "0"])
        process.waitUntilExit()
        #expect(process.terminationStatus == 64)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.contains("refusing to listen on 0.0.0.0 without API keys") && message.contains("--allow-unauthenticated"))

        let (allowed, output, _) = try launch(["--host", "0.0.0.0", "--port", "0", "--allow-unauthenticated", "--log-level", "error"])
        defer { if allowed.isRunning { allowed.terminate() } }
        #expect(firstLine(output).hasPrefix("jobwired listening on 0.0.0.0:"))
    }

    @Test("a keys file others can read is refused; with a safe one, keys work and SIGHUP applies revocations")
    func keysFileAndReload() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jobwire-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cli = Self.executable.deletingLastPathComponent().appendingPathComponent("jobwire")
        func keys(_ arguments: [String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = cli
            process.arguments = ["keys"] + arguments + ["--keys-file", path]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = Pipe()
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        let created = try keys(["create", "--tenant", "acme", "--role", "worker"])
        #expect(created.status == 0)
        let key = created.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("jwk_") && !created.output.contains(" "), "the key alone on stdout")
        let fileText = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!fileText.contains(key))
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)

        chmod(path, 0o644)
        let (unsafe, _, errors) = try launch(["--port", "0", "--keys", path])
        unsafe.waitUntilExit()
        #expect(unsafe.terminationStatus == 1)
        #expect(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("chmod 600"))
        chmod(path, 0o600)

        let (process, output, _) = try launch(["--port", "0", "--keys", path, "--log-level", "error"])
        defer { if process.isRunning { process.terminate() } }
        let line = firstLine(output)
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        let client = try TestClient(port: port)
        #expect(try client.hello(apiKey: key).role == "worker")
        #expect(throws: TestClient.Failure.self) { try TestClient(port: port).hello(apiKey: "") }

        let listed = try keys(["list"])
        let id = try #require(listed.output.split(separator: " ").first.map(String.init))
        #expect(listed.output.contains("acme") && listed.output.contains("worker") && !listed.output.contains(key))
        #expect(try keys(["revoke", id]).status == 0)
        #expect(try keys(["revoke", id]).status == 15, "a second revoke: NOT_FOUND")
        kill(process.processIdentifier, SIGHUP)
        #expect(try client.waitForClose())
        #expect(client.goAway?.status.reason == Reason.invalidAPIKey)
        #expect(process.isRunning, "SIGHUP reloads; it does not stop the server")
    }

    @Test("a damaged database refuses to start, with a clear message, and never starts empty over it")
    func damagedStore() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var garbage = [UInt8](repeating: 0, count: 8192)
        for index in garbage.indices { garbage[index] = UInt8(truncatingIfNeeded: index &* 7 &+ 13) }
        let file = (directory as NSString).appendingPathComponent("jobwire.sqlite")
        try Data(garbage).write(to: URL(fileURLWithPath: file))
        let (process, _, errors) = try launch(["--port", "0", "--data-dir", directory])
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.contains("cannot start") && message.contains("jobwire.sqlite"), "\(message)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Data(garbage), "the damaged file is left as it was")
        let (check, output, _) = try launch(["--check-store", "--data-dir", directory])
        check.waitUntilExit()
        _ = output
        #expect(check.terminationStatus != 0)
    }

    @Test("a store from a newer schema version refuses to start")
    func futureSchema() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Create a real store, then mark it as written by a future version.
        let (first, output, _) = try launch(["--port", "0", "--data-dir", directory, "--log-level", "error"])
        _ = firstLine(output)
        first.terminate()
        first.waitUntilExit()
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [(directory as NSString).appendingPathComponent("jobwire.sqlite"), "PRAGMA user_version = 99;"]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)

        let (process, _, errors) = try launch(["--port", "0", "--data-dir", directory])
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.contains("schema version 99"), "\(message)")
    }

    @Test("check-store and backup on a healthy store")
    func checkAndBackup() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (server, output, _) = try launch(["--port", "0", "--data-dir", directory, "--log-level", "error"])
        defer { if server.isRunning { server.terminate() } }
        let port = Int(firstLine(output).split(separator: ":").last ?? "") ?? 0
        let client = try TestClient(port: port)
        try client.hello()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job

        let (check, checkOutput, _) = try launch(["--check-store", "--data-dir", directory])
        check.waitUntilExit()
        #expect(check.terminationStatus == 0)
        #expect(String(decoding: checkOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "ok\n")

        // An online backup, restored into a new data directory, serves the job.
        let backupFile = DurableStoreTests.temporaryDirectory() + "/backup.sqlite"
        let (backup, _, _) = try launch(["--backup-to", backupFile, "--data-dir", directory])
        backup.waitUntilExit()
        #expect(backup.terminationStatus == 0)
        let restoredDirectory = DurableStoreTests.temporaryDirectory()
        try FileManager.default.copyItem(atPath: backupFile, toPath: restoredDirectory + "/jobwire.sqlite")
        let (restored, restoredOutput, _) = try launch(["--port", "0", "--data-dir", restoredDirectory, "--log-level", "error"])
        defer { restored.terminate() }
        let restoredPort = Int(firstLine(restoredOutput).split(separator: ":").last ?? "") ?? 0
        let other = try TestClient(port: restoredPort)
        try other.hello()
        #expect(try other.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID), as: Job.self) == job)
    }

    @Test("a port in use is a clear error")
    func portInUse() throws {
        let server = try TestServer()
        let (process, _, errors) = try launch(["--port", "\(server.port)"])
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.contains("cannot bind"), "\(message)")
    }
}
