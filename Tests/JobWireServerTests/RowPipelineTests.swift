import JobWireProtocol
@testable import JobWireServer
import JobWireSync
import JobWireTestSupport
import Testing

/// Start-up's reader and builder threads (`RowPipeline`).
@Suite("Start-up row pipeline", .ownThread)
struct RowPipelineTests {
    @Test("every batch arrives once and in order")
    func order() throws {
        let pipeline = RowPipeline<Int>(batchesInFlight: 2) { (send) throws(JobWireError) in
            for start in stride(from: 0, to: 10_000, by: 100) {
                guard send(Array(start..<start + 100)) else { return }
            }
        }
        var received: [Int] = []
        try pipeline.consume { (batch) throws(JobWireError) in received += batch }
        #expect(received == Array(0..<10_000))
    }

    @Test("the reader's failure reaches the builder after the batches read before it")
    func producerFailure() {
        let pipeline = RowPipeline<Int>(batchesInFlight: 2) { (send) throws(JobWireError) in
            for index in 0..<5 { _ = send([index]) }
            throw JobWireError(.dataLoss, Reason.storeDamaged, "row 5 is damaged")
        }
        var received: [Int] = []
        do {
            try pipeline.consume { (batch) throws(JobWireError) in received += batch }
            Issue.record("the reader's failure was lost")
        } catch {
            #expect(error.reason == Reason.storeDamaged)
        }
        #expect(received == [0, 1, 2, 3, 4])
    }

    @Test("a builder that gives up stops the reader, which was waiting for room, and nothing hangs")
    func consumerFailure() {
        let sent = Locked(0)
        let pipeline = RowPipeline<Int>(batchesInFlight: 2) { (send) throws(JobWireError) in
            for index in 0..<1_000 {
                guard send([index]) else { return }
                sent.withLock { $0 += 1 }
            }
        }
        do {
            try pipeline.consume { (batch) throws(JobWireError) in
                if batch == [3] { throw JobWireError(.dataLoss, Reason.storeDamaged, "job 3 does not fit") }
            }
            Issue.record("the builder's failure was lost")
        } catch {
            #expect(error.message == "job 3 does not fit")
        }
        // consume returned only after the reader stopped: it sent at most the
        // four batches taken plus the two that fit, not all 1,000.
        #expect(sent.withLock { $0 } <= 6, "the reader kept reading after the builder gave up")
    }
}
