import Foundation
import JobWireProtocol
import JobWireSync
import Synchronization
import JobWireTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// jobwired with its SQLite store, killed with SIGKILL under concurrent
/// acknowledged writes, then restarted: every acknowledged write is there.
/// `CRASH_ROUNDS` sets the number of rounds (`make crash-test` runs many).
@Suite("Crash safety", .serialized, .ownThread)
struct CrashSafetyTests {
    static var rounds: Int { Int(ProcessInfo.processInfo.environment["CRASH_ROUNDS"] ?? "") ?? 4 }

    /// What a client was told about a job: its revision and status in the last reply.
    struct Acknowledged {
        var revision: UInt64
        var status: JobStatus
    }

    /// What the writers share with the test.
    final class Shared: Sendable {
        let acknowledged = Locked<[String: Acknowledged]>([:])
        let stop = Atomic<Bool>(false)
    }

    final class Daemon {
        let process = Process()
        let port: Int

        init(dataDirectory: String) throws {
            process.executableURL = DaemonTests.executable
            process.arguments = ["--port", "0", "--no-http", "--data-dir", dataDirectory, "--log-level", "error"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line: [UInt8] = []
            while let byte = output.fileHandleForReading.readData(ofLength: 1).first, byte != UInt8(ascii: "\n") {
                line.append(byte)
            }
            port = Int(String(decoding: line, as: UTF8.self).split(separator: ":").last ?? "") ?? 0
        }

        func kill() {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    @Test("SIGKILL at a random moment under concurrent writes loses no acknowledged write")
    func killDuringWrites() throws {
        let directory = DurableStoreTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let shared = Shared()
        var random = SystemRandomNumberGenerator()
        var totalAcknowledged = 0

        for round in 1...Self.rounds {
            let daemon = try Daemon(dataDirectory: directory)
            #expect(daemon.port > 0)
            // Everything acknowledged in earlier rounds survived the kill.
            try verify(port: daemon.port, shared.acknowledged.withLock { $0 }, round: round)

            shared.stop.store(false, ordering: .relaxed)
            let writers = DispatchGroup()
            let known = shared.acknowledged.withLock { Array($0.keys) }
            let port = daemon.port
            for writer in 0..<4 {
                writers.enter()
                Thread.detachNewThread {
                    defer { writers.leave() }
                    Self.write(port: port, writer: writer, existing: known, shared: shared)
                }
            }
            let before = shared.acknowledged.withLock { $0.count }
            let pause = UInt32.random(in: 150_000...700_000, using: &random)
            usleep(pause)
            daemon.kill()
            shared.stop.store(true, ordering: .relaxed)
            writers.wait()
            totalAcknowledged = shared.acknowledged.withLock { $0.count }
            print("crash round \(round): SIGKILL after \(pause / 1000) ms; jobs acknowledged so far \(totalAcknowledged) (+\(totalAcknowledged - before)); all earlier acknowledged writes verified")
        }
        let daemon = try Daemon(dataDirectory: directory)
        try verify(port: daemon.port, shared.acknowledged.withLock { $0 }, round: Self.rounds + 1)
        daemon.process.terminate()
        daemon.process.waitUntilExit()
        #expect(totalAcknowledged > 20, "the rounds acknowledged \(totalAcknowledged) jobs")
    }

    /// One writer: creates jobs and moves them on (running, progress, complete,
    /// cancel), recording what each reply acknowledged, until the server dies.
    private static func write(port: Int, writer: Int, existing: [String], shared: Shared) {
        guard let client = try? TestClient(port: port), (try? client.hello()) != nil else { return }
        var mine: [String] = existing.enumerated().filter { $0.offset % 4 == writer }.map(\.element)
        var step = 0
        while !shared.stop.load(ordering: .relaxed) {
            step += 1
            let request: (Method, any WireMessage)
            if mine.isEmpty || step % 3 == 0 {
                request = (.configure, ConfigureRequest(requestID: "w\(writer)-\(step)-\(UUID().uuidString)", job: Job(type: "crash")))
            } else {
                let id = mine[step % mine.count]
                switch shared.acknowledged.withLock({ $0[id]?.status }) {
                case .pending: request = (.updateJob, UpdateJobRequest(jobID: id, status: .running, logLines: ["started"]))
                case .running where step % 5 == 0: request = (.cancel, CancelRequest(jobID: id, reason: "crash test"))
                case .running where step % 7 == 0: request = (.updateJob, UpdateJobRequest(jobID: id, status: .completed, progress: 100))
                case .running: request = (.updateJob, UpdateJobRequest(jobID: id, progress: Double(step % 100), logLines: ["step \(step)"]))
                default:
                    mine.removeAll { $0 == id }
                    continue
                }
            }
            guard let result = try? client.call(request.0, request.1, timeoutMs: 5_000), result.status.isOK,
                  let reply = result.replies.first else { return }
            let job: Job? = request.0 == .configure ? (try? ConfigureResponse(decoding: reply).job) : (try? Job(decoding: reply))
            guard let job else { return }
            if request.0 == .configure { mine.append(job.jobID) }
            shared.acknowledged.withLock { $0[job.jobID] = Acknowledged(revision: job.revision, status: job.status) }
        }
    }

    /// Every acknowledged job exists with at least the acknowledged revision;
    /// at exactly that revision it has the acknowledged status.
    private func verify(port: Int, _ acknowledged: [String: Acknowledged], round: Int) throws {
        guard !acknowledged.isEmpty else { return }
        let client = try TestClient(port: port)
        try client.hello()
        let ids = Array(acknowledged.keys)
        for chunk in stride(from: 0, to: ids.count, by: 500) {
            let batch = Array(ids[chunk..<min(chunk + 500, ids.count)])
            let response = try client.unary(.batchGetMetadata, BatchGetMetadataRequest(jobIDs: batch), as: BatchGetMetadataResponse.self)
            for result in response.results {
                guard let expected = acknowledged[result.jobID] else { continue }
                guard case .job(let job) = result.outcome else {
                    Issue.record("round \(round): acknowledged job \(result.jobID) is missing: \(result.outcome)")
                    continue
                }
                #expect(job.revision >= expected.revision,
                        "round \(round): \(job.jobID) went back from revision \(expected.revision) to \(job.revision)")
                if job.revision == expected.revision {
                    #expect(job.status == expected.status, "round \(round): \(job.jobID) at revision \(job.revision)")
                }
            }
        }
    }
}
