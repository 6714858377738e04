import Foundation
import JobWireClient
import JobWireProtocol
import JobWireServer
import JobWireTestSupport
import Testing

/// Several nodes serving the same jobs (docs/OPERATIONS.md, "Several nodes on PostgreSQL"): the client is given every
/// address, moves to the one that answers, and resumes its watches there. Two in-process servers on one surviving
/// store stand in for a writer and the standby that takes over (clients/python/tests/test_cluster.py runs the real
/// thing on PostgreSQL).
@Suite("JobWireClient with several servers", .ownThread)
struct ClientFailoverTests {
    @Test("addresses parse as HOST:PORT, [IPv6]:PORT or a bare host; anything else is refused")
    func addresses() {
        #expect(ServerAddress(parsing: "db.internal:7500") == ServerAddress(host: "db.internal", port: 7500))
        #expect(ServerAddress(parsing: " a ") == ServerAddress(host: "a", port: 7420))
        #expect(ServerAddress(parsing: "[::1]:7421") == ServerAddress(host: "::1", port: 7421))
        #expect(ServerAddress(parsing: "[::1]") == ServerAddress(host: "::1", port: 7420))
        #expect(ServerAddress(host: "::1", port: 7421).description == "[::1]:7421")
        for bad in ["", "a:", "a:0", "a:65536", "a:x", ":7420", "a:1:2", "[::1", "[::1]x", "[]:7420"] {
            #expect(ServerAddress(parsing: bad) == nil, "\(bad) is not an address")
        }
        #expect(ServerAddress.list(parsing: "a:1,b:2") == [ServerAddress(host: "a", port: 1), ServerAddress(host: "b", port: 2)])
        #expect(ServerAddress.list(parsing: "a:1,b:x") == nil)
        #expect(ServerAddress.list(parsing: "") == nil)
    }

    @Test("a first address nobody listens on is passed over for the next one")
    func deadFirstAddress() async throws {
        let dead = try freePort()
        let live = ServerHarness()
        let livePort = try live.start()
        defer { live.stop() }
        let client = JobWireClient(configuration: .init(host: "127.0.0.1", port: dead, defaultTimeout: .seconds(10),
                                                        fallbacks: [ServerAddress(host: "127.0.0.1", port: livePort)]))
        let job = try await client.configure(streamJob()).job
        #expect(try await client.metadata(for: job.jobID) == job)
        #expect(live.server?.connectionCount == 1)
    }

    @Test("when its node dies, calls and a watch move to the node that took over, with no gap and no duplicate")
    func takeover() async throws {
        let store = SurvivingStore()
        let writer = ServerHarness(store: store)
        let standby = ServerHarness(store: store, port: try freePort())
        try writer.start()
        let client = writer.client { $0.fallbacks = [ServerAddress(host: "127.0.0.1", port: standby.port)] }
        let job = try await client.configure(streamJob()).job
        var events = client.watch(job.jobID).makeAsyncIterator()
        #expect(try await events.next()?.revision == 1)
        _ = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .running))
        #expect(try await events.next()?.revision == 2)

        writer.kill()
        try standby.start()  // loads what the writer committed, as a standby does once it holds the lock
        defer { standby.stop() }
        #expect(try await client.metadata(for: job.jobID).revision == 2)
        for progress in [10.0, 20.0] {
            _ = try await client.update(UpdateJobRequest(jobID: job.jobID, progress: progress))
        }
        _ = try await client.update(UpdateJobRequest(jobID: job.jobID, status: .completed))
        var revisions: [UInt64] = []
        while let event = try await events.next() {
            revisions.append(event.revision)
            if event.job.status == .completed { break }
        }
        #expect(revisions == [3, 4, 5], "every revision after the move once, in order")
    }
}
