import Foundation
import JobWireProtocol
import JobWireTestSupport
import Testing

/// Malformed bodies give a typed error with a documented code and reason,
/// never a crash.
@Suite("Malformed protobuf bodies", .ownThread)
struct MalformedInputTests {
    typealias Raw = RawProtobuf

    private func expectError<M: WireMessage>(_ type: M.Type, _ bytes: [UInt8], maxBytes: Int = Limits.defaultMaxFrameBytes,
                                             code: StatusCode, reason: String,
                                             sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let decoded = try M(decoding: bytes, maxBytes: maxBytes)
            Issue.record("decoded \(decoded) instead of failing with \(reason)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.reason == reason, "\(error)", sourceLocation: sourceLocation)
            #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        }
    }

    private let jobID = GoldenValues.jobID

    @Test("truncated varints")
    func truncatedVarint() {
        expectError(GetMetadataRequest.self, Raw.string(1, jobID) + [0x10, 0xFF], code: .invalidArgument,
                    reason: Reason.malformedMessage)
        expectError(Frame.self, [0x3A, 0x03, 0x08, 0xFF, 0xFF], code: .invalidArgument, reason: Reason.malformedMessage)
        expectError(Job.self, [0xA0], code: .invalidArgument, reason: Reason.malformedMessage)
    }

    @Test("lengths past the end")
    func lengthPastEnd() {
        expectError(GetMetadataRequest.self, [0x0A, 0x10, 0x41], code: .invalidArgument, reason: Reason.malformedMessage)
        expectError(Frame.self, [0x22, 0x7F, 0x08, 0x01], code: .invalidArgument, reason: Reason.malformedMessage)
        expectError(Job.self, Raw.tag(13, wireType: 2) + Raw.varint(1 << 40), code: .invalidArgument,
                    reason: Reason.malformedMessage)
    }

    @Test("wrong wire types")
    func wrongWireType() {
        // job_id (a string) sent as a varint; revision (a varint) sent as a fixed64.
        expectError(GetMetadataRequest.self, Raw.varintField(1, 5), code: .invalidArgument, reason: Reason.malformedMessage)
        expectError(Job.self, Raw.double(60, 1.0), code: .invalidArgument, reason: Reason.malformedMessage)
        // A sub-message field (Frame.ping) sent as a varint.
        expectError(Frame.self, Raw.varintField(7, 1), code: .invalidArgument, reason: Reason.malformedMessage)
    }

    @Test("invalid UTF-8 in strings", arguments: [[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98]] as [[UInt8]])
    func invalidUTF8(bad: [UInt8]) {
        expectError(Job.self, Raw.lengthDelimited(3, bad), code: .invalidArgument, reason: Reason.invalidUTF8)
        expectError(Frame.self, Raw.lengthDelimited(1, Raw.lengthDelimited(3, Array("ok".utf8) + bad)),
                    code: .invalidArgument, reason: Reason.invalidUTF8)
        expectError(Job.self, Raw.lengthDelimited(4, Raw.lengthDelimited(1, Array("k".utf8)) + Raw.lengthDelimited(2, bad)),
                    code: .invalidArgument, reason: Reason.invalidUTF8)
    }

    @Test("unknown enum values")
    func unknownEnumValues() {
        expectError(Job.self, Raw.varintField(20, 99), code: .invalidArgument, reason: Reason.invalidEnumValue)
        expectError(Job.self, Raw.varintField(20, UInt64(bitPattern: -1)), code: .invalidArgument,
                    reason: Reason.invalidEnumValue)
        expectError(WatchEvent.self, Raw.varintField(1, 5), code: .invalidArgument, reason: Reason.invalidEnumValue)
        expectError(ListJobsRequest.self, Raw.lengthDelimited(1, [1, 2, 7]), code: .invalidArgument,
                    reason: Reason.invalidEnumValue)
        expectError(HealthResponse.self, Raw.varintField(1, 4), code: .invalidArgument, reason: Reason.invalidEnumValue)
    }

    @Test("an unknown status code reads as UNKNOWN, as in gRPC")
    func unknownStatusCode() throws {
        #expect(try Status(decoding: Raw.varintField(1, 77)).code == .unknown)
    }

    @Test("job ids that are not UUIDs", arguments: ["", "not-a-uuid", "3f2b8c1e9a4d4e6f8b7a1c2d3e4f5a6b",
                                                    "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6g", "3f2b8c1e-9a4d-4e6f-8b7a_1c2d3e4f5a6b",
                                                    "{3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b}", "../../etc/passwd"])
    func invalidJobIDs(id: String) {
        for bytes in [Raw.string(1, id)] {
            expectError(GetMetadataRequest.self, bytes, code: .invalidArgument, reason: Reason.invalidJobID)
            expectError(WatchJobRequest.self, bytes, code: .invalidArgument, reason: Reason.invalidJobID)
            expectError(CancelRequest.self, bytes, code: .invalidArgument, reason: Reason.invalidJobID)
            expectError(UpdateJobRequest.self, bytes, code: .invalidArgument, reason: Reason.invalidJobID)
            expectError(DeleteJobRequest.self, bytes, code: .invalidArgument, reason: Reason.invalidJobID)
        }
        if !id.isEmpty {
            expectError(Job.self, Raw.string(1, id), code: .invalidArgument, reason: Reason.invalidJobID)
        }
    }

    @Test("a channel_to_stream_index with a million entries is refused, whatever the size limit")
    func millionMapEntries() {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(9_000_000)
        for key in 0..<1_000_000 as Range<UInt64> {
            let entry = Raw.varintField(1, key) + Raw.varintField(2, key & 0xFF)
            bytes += Raw.lengthDelimited(15, entry)
        }
        // Within a 4 MiB frame, the message cannot even be read.
        expectError(Job.self, bytes, code: .resourceExhausted, reason: Reason.messageTooLarge)
        // Allowed in size, it unpacks within its memory budget and fails the count limit.
        expectError(Job.self, bytes, maxBytes: 64 << 20, code: .invalidArgument, reason: Reason.tooManyElements)
    }

    @Test("input that would need more memory than its budget is refused")
    func memoryBudget() {
        // 200,000 empty jobs: 2 bytes each on the wire, hundreds in memory.
        let bytes = [UInt8]([0x0A, 0x00].repeated(200_000))
        expectError(ListJobsResponse.self, bytes, code: .resourceExhausted, reason: Reason.messageTooComplex)
    }

    @Test("limits on strings, repeated fields and numbers")
    func fieldLimits() {
        expectError(Job.self, Raw.string(3, String(repeating: "x", count: Limits.maxShortStringBytes + 1)),
                    code: .invalidArgument, reason: Reason.fieldTooLong)
        expectError(ConfigureRequest.self, Raw.string(1, String(repeating: "r", count: Limits.maxRequestIDBytes + 1)),
                    code: .invalidArgument, reason: Reason.fieldTooLong)
        expectError(GetMetadataRequest.self, Raw.string(1, jobID) + Raw.varintField(2, UInt64(Limits.maxLogTail + 1)),
                    code: .invalidArgument, reason: Reason.valueOutOfRange)
        expectError(ListJobsRequest.self, Raw.varintField(7, 501), code: .invalidArgument, reason: Reason.valueOutOfRange)
        expectError(Job.self, Raw.varintField(11, 70_000), code: .invalidArgument, reason: Reason.valueOutOfRange)
        expectError(UpdateJobRequest.self, Raw.string(1, jobID) + Raw.double(3, 100.5), code: .invalidArgument,
                    reason: Reason.valueOutOfRange)
        expectError(UpdateJobRequest.self, Raw.string(1, jobID) + Raw.double(3, .nan), code: .invalidArgument,
                    reason: Reason.valueOutOfRange)
        expectError(UpdateJobRequest.self, Raw.string(1, jobID) + Raw.double(5, .infinity), code: .invalidArgument,
                    reason: Reason.valueOutOfRange)
        let labels = (0...Limits.maxLabels).flatMap { Raw.lengthDelimited(4, Raw.string(1, "k\($0)")) }
        expectError(Job.self, labels, code: .invalidArgument, reason: Reason.tooManyElements)
        expectError(Job.self, Raw.lengthDelimited(4, Raw.string(2, "value without a key")), code: .invalidArgument,
                    reason: Reason.fieldTooLong)
        let ids = (0...Limits.maxBatchIDs).flatMap { _ in Raw.string(1, jobID) }
        expectError(BatchGetMetadataRequest.self, ids, code: .invalidArgument, reason: Reason.tooManyElements)
        let lines = (0...Limits.maxLogLinesPerUpdate).flatMap { _ in Raw.string(6, "line") }
        expectError(UpdateJobRequest.self, Raw.string(1, jobID) + lines, code: .invalidArgument,
                    reason: Reason.tooManyElements)
        expectError(JobResult.self, Raw.lengthDelimited(2, [UInt8](repeating: 0, count: Limits.maxResultBytes + 1)),
                    code: .invalidArgument, reason: Reason.fieldTooLong)
    }

    @Test("frames without a kind, and frames of a kind from the future")
    func frameKinds() {
        expectError(Frame.self, [], code: .invalidArgument, reason: Reason.missingFrameKind)
        expectError(Frame.self, Raw.lengthDelimited(100, [0x08, 0x01]), code: .unimplemented,
                    reason: Reason.unknownFrameKind)
    }

    @Test("input above the size limit is refused before it is read")
    func sizeLimit() {
        expectError(Frame.self, [UInt8](repeating: 0, count: 101), maxBytes: 100, code: .resourceExhausted,
                    reason: Reason.messageTooLarge)
    }

    @Test("mutated golden fixtures never crash any decoder")
    func mutatedFixtures() throws {
        let directory = TestPaths.goldenFixtures
        let fixtures = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            .map { try [UInt8](Data(contentsOf: directory.appendingPathComponent($0))) }
            .filter { !$0.isEmpty }
        let decoders: [([UInt8]) throws(JobWireError) -> Void] = [
            decoder(Job.self), decoder(Frame.self), decoder(ConfigureRequest.self), decoder(ListJobsRequest.self),
            decoder(ListJobsResponse.self), decoder(UpdateJobRequest.self), decoder(BatchGetMetadataResponse.self),
            decoder(WatchEvent.self), decoder(StatsResponse.self),
        ]
        var random = SeededRandom(seed: 99)
        var outcomes = (decoded: 0, refused: 0)
        for round in 0..<6_000 {
            var bytes = fixtures[round % fixtures.count]
            switch round % 3 {
            case 0: bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
            case 1: bytes.removeLast(Int.random(in: 1...bytes.count, using: &random))
            default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...bytes.count, using: &random))
            }
            for decode in decoders {
                do {
                    try decode(bytes)
                    outcomes.decoded += 1
                } catch {
                    #expect([.invalidArgument, .resourceExhausted, .unimplemented].contains(error.code))
                    outcomes.refused += 1
                }
            }
        }
        #expect(outcomes.decoded + outcomes.refused == 6_000 * decoders.count)
        #expect(outcomes.refused > 1_000)
    }
}

private func decoder<M: WireMessage>(_ type: M.Type) -> ([UInt8]) throws(JobWireError) -> Void {
    { (bytes: [UInt8]) throws(JobWireError) in _ = try M(decoding: bytes) }
}

private extension Array {
    func repeated(_ times: Int) -> [Element] {
        var out: [Element] = []
        out.reserveCapacity(count * times)
        for _ in 0..<times { out += self }
        return out
    }
}
