import JobWireProtocol
@testable import JobWireServer
import JobWireTestSupport
import Testing

/// The pure parts of the server, without sockets.
@Suite("Lifecycle and registry building blocks", .ownThread)
struct RegistryUnitTests {
    @Test("the worker transition matrix: exactly the documented edges are allowed")
    func transitionMatrix() {
        let allowed: Set<[JobStatus]> = [
            [.pending, .running], [.pending, .failed], [.pending, .cancelled],
            [.running, .completed], [.running, .failed], [.running, .cancelled],
            [.cancelling, .cancelled],
        ]
        for from in JobStatus.allCases where from != .unspecified {
            for to in JobStatus.allCases {
                let result = Result { () throws(JobWireError) in try JobLifecycle.workerTransition(from: from, to: to) }
                switch result {
                case .success(let next):
                    #expect(!from.isTerminal)
                    if to == .unspecified || to == from {
                        #expect(next == nil, "\(from) -> \(to) is no change")
                    } else {
                        #expect(allowed.contains([from, to]), "\(from) -> \(to) must be refused")
                        #expect(next == to)
                    }
                case .failure(let error):
                    if from.isTerminal {
                        #expect(error.reason == Reason.jobTerminal)
                    } else {
                        #expect(error.code == .failedPrecondition && error.reason == Reason.illegalTransition)
                        #expect(!allowed.contains([from, to]), "\(from) -> \(to) must be allowed")
                    }
                }
            }
        }
    }

    @Test("job ids are canonical version 4 UUIDs, distinct across many refills of the random pool")
    func jobIDs() {
        // 512 words a refill, two an id: 5,000 ids take about 20 refills.
        let made = (0..<5_000).map { _ in JobIDGenerator.make() }
        let ids = made.map(\.id)
        #expect(Set(ids).count == ids.count)
        for (id, key) in made.prefix(600) {
            #expect(JobID.canonical(id) == id, "\(id) is canonical")
            #expect(JobKey(id) == key, "\(id): the key made with it is the one its text parses to")
            let characters = Array(id)
            #expect(characters[14] == "4", "\(id): version 4")
            #expect("89ab".contains(characters[19]), "\(id): RFC 4122 variant")
        }
        // Every hex digit position carries randomness (none is stuck).
        for position in [0, 9, 15, 20, 35] {
            #expect(Set(ids.map { Array($0)[position] }).count == 16, "position \(position) takes every digit")
        }
    }

    @Test("a job key is the UUID's 16 bytes; anything but a canonical lower-case UUID has none")
    func jobKeys() {
        let key = JobKey("0123abcd-4567-4def-89ab-cdef01234567")
        #expect(key == JobKey(high: 0x0123_abcd_4567_4def, low: 0x89ab_cdef_0123_4567))
        #expect(JobKey("00000000-0000-4000-8000-000000000000") == JobKey(high: 0x4000, low: 0x8000_0000_0000_0000))
        #expect(JobKey("ffffffff-ffff-4fff-bfff-ffffffffffff") == JobKey(high: 0xffff_ffff_ffff_4fff, low: 0xbfff_ffff_ffff_ffff))
        for text in ["0123ABCD-4567-4def-89ab-cdef01234567",   // upper case: decoding makes ids lower case first
                     "0123abcd-4567-4def-89ab-cdef0123456",    // 35 characters
                     "0123abcd-4567-4def-89ab-cdef012345678",  // 37
                     "0123abcd04567-4def-89ab-cdef01234567",   // a digit where a dash goes
                     "0123abcd-4567-4def-89ab-cdef0123456g",   // not hex
                     "0123abcd-4567-4def-89ab-cdef0123456/",   // just below '0'
                     "0123abcd-4567-4def-89ab-cdef0123456:",   // just above '9'
                     "0123abcd-4567-4def-89ab-cdef0123456`",   // just below 'a'
                     "", "0123abcd-4567-4def-89ab-cdef0123456é"] {
            #expect(JobKey(text) == nil, "\(text) has no key")
        }
    }

    @Test("cancel and lease expiry outcomes")
    func cancelAndLease() {
        #expect(JobLifecycle.cancel(from: .pending, leaseIsLive: false) == .cancelled)
        #expect(JobLifecycle.cancel(from: .running, leaseIsLive: true) == .cancelling)
        for status in [JobStatus.cancelling, .completed, .failed, .cancelled] {
            #expect(JobLifecycle.cancel(from: status, leaseIsLive: true) == .unchanged)
        }
        #expect(JobLifecycle.leaseExpiry(from: .running) == .failed)
        #expect(JobLifecycle.leaseExpiry(from: .pending) == .failed)
        #expect(JobLifecycle.leaseExpiry(from: .cancelling) == .cancelled)
        #expect(JobLifecycle.leaseExpiry(from: .completed) == nil)
    }

    @Test("spliced replies, Ends and watch events decode to what they should")
    func splicing() throws {
        let job = Job(jobID: "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", type: "t", labels: ["a": "b"], revision: 7)
        var bytes: [UInt8] = []
        ReplyFrames.append(streamID: 300, message: job.encode(), to: &bytes)
        EndFrames.appendOK(streamID: 300, to: &bytes)
        EndFrames.append(streamID: 301, status: Status(code: .notFound, reason: Reason.jobNotFound, message: "m"), to: &bytes)
        var frames: [Frame] = []
        var decoder = FrameDecoder()
        try bytes.withUnsafeBytes { raw in
            try decoder.feed(raw) { (body) throws(JobWireError) in frames.append(try Frame(decoding: Array(body))) }
        }
        #expect(frames == [
            .reply(Reply(streamID: 300, message: job.encode())),
            .end(End(streamID: 300, status: .ok)),
            .end(End(streamID: 301, status: Status(code: .notFound, reason: Reason.jobNotFound, message: "m"))),
        ])

        let event = try WatchEvent(decoding: WatchEvents.encode(type: .change, revision: 7, encodedJob: job.encode(),
                                                                logLines: ["x", "y"]))
        #expect(event == WatchEvent(type: .change, revision: 7, job: job, newLogLines: ["x", "y"]))
        let bookmark = try WatchEvent(decoding: WatchEvents.encode(type: .bookmark, revision: 9, encodedJob: nil, logLines: []))
        #expect(bookmark == WatchEvent(type: .bookmark, revision: 9))
    }

    @Test("a reply's announced frame size is its real size")
    func replyFrameSize() {
        for (streamID, size) in [(UInt32(1), 0), (127, 10), (128, 200), (70_000, 20_000)] {
            var bytes: [UInt8] = []
            ReplyFrames.append(streamID: streamID, message: [UInt8](repeating: 1, count: size), to: &bytes)
            #expect(ReplyFrames.frameSize(streamID: streamID, messageBytes: size) == bytes.count - 4)
        }
    }

    @Test("log tails are spliced onto the cached encoding, only what the store accepted")
    func logTailSplice() throws {
        var record = JobRecord(job: Job(jobID: "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", revision: 1), sequence: 1, requestID: "",
                               requestFingerprint: 0, leaseTTLMs: 0, pooledPort: nil,
                               capacities: .init(logLines: 3, historyEvents: 2, historyBytes: 1 << 20))
        let store = InMemoryJobStore()
        _ = try record.commit(now: 5, newLogLines: ["a", "b", "c", "d"], store: store) { $0.progress = 1 }
        // Until the store accepts revision 2, readers get revision 1 and none of its lines.
        let before = try Job(decoding: try #require(record.visibleEncoded(logTail: 2)))
        #expect(before.revision == 1 && before.logTail.isEmpty && !record.isSettled)
        record.accept(revision: 2)
        #expect(record.isSettled)
        let decoded = try Job(decoding: try #require(record.visibleEncoded(logTail: 2)))
        #expect(decoded.logTail == ["c", "d"] && decoded.logLineCount == 4 && decoded.revision == 2)
        #expect(try Job(decoding: try #require(record.visibleEncoded(logTail: 10))).logTail == ["b", "c", "d"],
                "three lines are kept")
        _ = try record.commit(now: 6, newLogLines: [], store: store) { $0.progress = 2 }
        _ = try record.commit(now: 7, newLogLines: [], store: store) { $0.progress = 3 }
        #expect(record.events(after: 0).count == 2 && record.oldestEvent?.revision == 3)
    }

    @Test("latency percentiles land within the histogram's resolution")
    func histogram() {
        var histogram = LatencyHistogram()
        for value in 1...1000 as ClosedRange<UInt64> { histogram.record(microseconds: value) }
        let p50 = histogram.percentile(0.5)
        let p99 = histogram.percentile(0.99)
        #expect(p50 >= 500 && Double(p50) <= 500 * 1.07)
        #expect(p99 >= 990 && Double(p99) <= 990 * 1.07)
        #expect(histogram.percentile(1) >= 1000)
        #expect(LatencyHistogram().percentile(0.5) == 0)
        for value in [0, 15, 16, 17, 1000, 123_456, UInt64(1) << 39] as [UInt64] {
            #expect(LatencyHistogram.upperBound(of: LatencyHistogram.bucket(for: value)) >= value)
        }
    }

    @Test("page tokens round trip and are tied to their filters")
    func pageTokens() throws {
        let request = ListJobsRequest(statuses: [.running, .pending], type: "t")
        let fingerprint = PageToken.fingerprint(of: request, tenant: "default")
        var reordered = request
        reordered.statuses = [.pending, .running]
        reordered.pageSize = 3
        #expect(PageToken.fingerprint(of: reordered, tenant: "default") == fingerprint)
        #expect(PageToken.fingerprint(of: request, tenant: "other") != fingerprint)
        for changed in [ListJobsRequest(statuses: [.running, .pending], type: "t", orderBy: .priority),
                        ListJobsRequest(statuses: [.running, .pending], type: "t", ascending: true),
                        ListJobsRequest(statuses: [.running, .pending], type: "t", query: "x")] {
            #expect(PageToken.fingerprint(of: changed, tenant: "default") != fingerprint, "a token is tied to its order and search")
        }
        let token = PageToken(key: -42, sequence: 12345, filterFingerprint: fingerprint)
        #expect(try PageToken(parsing: token.encoded, expectedFingerprint: fingerprint) == token)
        #expect(throws: JobWireError.self) { try PageToken(parsing: token.encoded, expectedFingerprint: fingerprint + 1) }
        #expect(throws: JobWireError.self) { try PageToken(parsing: "garbage", expectedFingerprint: fingerprint) }
    }

    @Test("the stream port pool allocates each port once and reuses released ones last")
    func portPool() {
        var pool = StreamPortPool(range: 100...102)
        #expect(pool.allocate() == 100 && pool.allocate() == 101)
        #expect(!pool.claim(101) && pool.claim(102) && pool.claim(5000))
        #expect(pool.allocate() == nil && pool.available == 0)
        pool.release(100)
        #expect(pool.allocate() == 100)
    }

    @Test("watch history is bounded in count and in bytes, and keeps the newest event")
    func historyBounds() {
        func event(_ revision: UInt64, bytes: Int) -> StoredEvent {
            StoredEvent(revision: revision, encodedEvent: [UInt8](repeating: 0, count: bytes), isStatusTransition: false)
        }
        var history = EventHistory(maxCount: 4, maxBytes: 1000)
        for revision in 1...6 as ClosedRange<UInt64> { history.append(event(revision, bytes: 100)) }
        #expect(history.events.map(\.revision) == [3, 4, 5, 6] && history.bytes == 400)
        history.append(event(7, bytes: 700))
        #expect(history.events.map(\.revision) == [4, 5, 6, 7] && history.bytes == 1000, "at the budget is within it")
        history.append(event(8, bytes: 5000))
        #expect(history.events.map(\.revision) == [8], "the newest is kept even when alone over the budget")
        #expect(history.events(after: 7).map(\.revision) == [8] && history.events(after: 8).isEmpty)
    }

    @Test("the bounded ring keeps the newest elements in order")
    func ring() {
        var ring = BoundedRing<Int>(capacity: 3)
        #expect(ring.isEmpty && ring.first == nil)
        for value in 1...5 { ring.append(value) }
        #expect(ring.count == 3 && ring.first == 3 && ring.last == 5)
        #expect(ring.suffix(2) == [4, 5] && ring.suffix(10) == [3, 4, 5])
    }
}
