import Foundation
import JobWireProtocol
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `jobwired` executable itself: its ready line, flags and signals.
@Suite("jobwired process")
struct DaemonTests {
    /// The daemon built beside this test bundle.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("jobwired")
    }

    private func launch(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
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

    @Test("prints exactly one ready line, serves, and exits 0 on SIGTERM after a GoAway")
    func readyServeAndStop() throws {
        let (process, output, _) = try launch(["--port", "0", "--log-level", "error", "--stream-ports", "40000-40009"])
        defer { if process.isRunning { process.terminate() } }
        let line = firstLine(output)
        let prefix = "jobwired listening on 127.0.0.1:"
        #expect(line.hasPrefix(prefix))
        let port = try #require(Int(line.dropFirst(prefix.count)))

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
        #expect(rest.isEmpty, "nothing but the ready line on stdout")
    }

    @Test("invalid flags are refused with a non-zero exit", arguments: [
        ["--stream-ports", "50000-40000"], ["--port", "70000"], ["--max-frame-bytes", "10"], ["--log-level", "loud"],
        ["--retention", "soon"],
    ])
    func invalidFlags(arguments: [String]) throws {
        let (process, _, errors) = try launch(arguments)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.contains("Error"), "\(message)")
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
