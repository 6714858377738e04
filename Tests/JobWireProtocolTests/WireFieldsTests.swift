import CJobWireProto
import JobWireProtocol
import JobWireTestSupport
import Testing

/// Every field number that hand-written protobuf (splicing cached encodings)
/// relies on, checked against the descriptors protoc-c generated from the
/// `.proto`: a renumbered field fails here, not in a client.
@Suite("Hand-written field numbers", .ownThread)
struct WireFieldsTests {
    enum Kind: CustomStringConvertible {
        case varint, lengthDelimited

        var description: String { self == .varint ? "varint" : "length-delimited" }
    }

    struct Expectation: CustomTestStringConvertible, Sendable {
        let message: String
        let field: String
        let number: UInt64
        let kind: Kind

        var testDescription: String { "\(message).\(field) = \(number)" }
    }

    static let expectations: [Expectation] = [
        Expectation(message: "Frame", field: "reply", number: WireFields.Frame.reply, kind: .lengthDelimited),
        Expectation(message: "Frame", field: "end", number: WireFields.Frame.end, kind: .lengthDelimited),
        Expectation(message: "Reply", field: "stream_id", number: WireFields.Reply.streamID, kind: .varint),
        Expectation(message: "Reply", field: "message", number: WireFields.Reply.message, kind: .lengthDelimited),
        Expectation(message: "End", field: "stream_id", number: WireFields.End.streamID, kind: .varint),
        Expectation(message: "End", field: "status", number: WireFields.End.status, kind: .lengthDelimited),
        Expectation(message: "Job", field: "log_tail", number: WireFields.Job.logTail, kind: .lengthDelimited),
        Expectation(message: "JobsEvent", field: "type", number: WireFields.JobsEvent.type, kind: .varint),
        Expectation(message: "JobsEvent", field: "cursor", number: WireFields.JobsEvent.cursor, kind: .lengthDelimited),
        Expectation(message: "JobsEvent", field: "jobs", number: WireFields.JobsEvent.jobs, kind: .lengthDelimited),
        Expectation(message: "JobsEvent", field: "job_id", number: WireFields.JobsEvent.jobID, kind: .lengthDelimited),
        Expectation(message: "WatchEvent", field: "type", number: WireFields.WatchEvent.type, kind: .varint),
        Expectation(message: "WatchEvent", field: "revision", number: WireFields.WatchEvent.revision, kind: .varint),
        Expectation(message: "WatchEvent", field: "job", number: WireFields.WatchEvent.job, kind: .lengthDelimited),
        Expectation(message: "WatchEvent", field: "new_log_lines", number: WireFields.WatchEvent.newLogLines,
                    kind: .lengthDelimited),
        Expectation(message: "ConfigureResponse", field: "job", number: WireFields.ConfigureResponse.job,
                    kind: .lengthDelimited),
        Expectation(message: "ConfigureResponse", field: "created", number: WireFields.ConfigureResponse.created,
                    kind: .varint),
        Expectation(message: "BatchGetMetadataResponse", field: "results",
                    number: WireFields.BatchGetMetadataResponse.results, kind: .lengthDelimited),
        Expectation(message: "BatchGetResult", field: "job_id", number: WireFields.BatchGetResult.jobID,
                    kind: .lengthDelimited),
        Expectation(message: "BatchGetResult", field: "job", number: WireFields.BatchGetResult.job, kind: .lengthDelimited),
        Expectation(message: "BatchGetResult", field: "error", number: WireFields.BatchGetResult.error,
                    kind: .lengthDelimited),
        Expectation(message: "ListJobsResponse", field: "jobs", number: WireFields.ListJobsResponse.jobs,
                    kind: .lengthDelimited),
        Expectation(message: "ListJobsResponse", field: "next_page_token",
                    number: WireFields.ListJobsResponse.nextPageToken, kind: .lengthDelimited),
        Expectation(message: "ListJobsResponse", field: "total_count", number: WireFields.ListJobsResponse.totalCount,
                    kind: .varint),
    ]

    /// The id and type protoc-c generated for `message.field`, or nil when
    /// either is unknown. The descriptors are C `const` globals, so each is
    /// only borrowed for the lookup.
    static func generatedField(_ message: String, _ field: String) -> (id: UInt32, type: ProtobufCType)? {
        func lookup(_ descriptor: ProtobufCMessageDescriptor) -> (id: UInt32, type: ProtobufCType)? {
            withUnsafePointer(to: descriptor) { pointer in
                protobuf_c_message_descriptor_get_field_by_name(pointer, field).map { ($0.pointee.id, $0.pointee.type) }
            }
        }
        switch message {
        case "Frame": return lookup(jobwire__v1__frame__descriptor)
        case "Reply": return lookup(jobwire__v1__reply__descriptor)
        case "End": return lookup(jobwire__v1__end__descriptor)
        case "Job": return lookup(jobwire__v1__job__descriptor)
        case "WatchEvent": return lookup(jobwire__v1__watch_event__descriptor)
        case "JobsEvent": return lookup(jobwire__v1__jobs_event__descriptor)
        case "ConfigureResponse": return lookup(jobwire__v1__configure_response__descriptor)
        case "BatchGetMetadataResponse": return lookup(jobwire__v1__batch_get_metadata_response__descriptor)
        case "BatchGetResult": return lookup(jobwire__v1__batch_get_result__descriptor)
        case "ListJobsResponse": return lookup(jobwire__v1__list_jobs_response__descriptor)
        default: return nil
        }
    }

    @Test("matches the generated descriptor", arguments: expectations)
    func matchesDescriptor(_ expected: Expectation) throws {
        let field = try #require(Self.generatedField(expected.message, expected.field),
                                 "the .proto has no field \(expected.message).\(expected.field)")
        #expect(UInt64(field.id) == expected.number)
        let kind: Kind = switch field.type {
        case PROTOBUF_C_TYPE_MESSAGE, PROTOBUF_C_TYPE_STRING, PROTOBUF_C_TYPE_BYTES: .lengthDelimited
        default: .varint
        }
        #expect(kind == expected.kind)
    }

    @Test("the spliced frames and events equal what the codec encodes")
    func splicedEqualsCodec() throws {
        var job = Job(type: "das_stream", labels: ["site": "haifa"], streamPort: 50_051)
        job.jobID = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b"
        job.revision = 7
        let encodedJob = job.encode()

        let event = WatchEvents.encode(type: .change, revision: 7, encodedJob: encodedJob, logLines: ["a", "b"])
        #expect(event == WatchEvent(type: .change, revision: 7, job: job, newLogLines: ["a", "b"]).encode())

        var spliced: [UInt8] = []
        ReplyFrames.append(streamID: 300, message: event, to: &spliced)
        #expect(spliced == (try FrameEncoder.encode(.reply(Reply(streamID: 300, message: event)))))
        #expect(ReplyFrames.frameSize(streamID: 300, messageBytes: event.count) == spliced.count - 4)

        var end: [UInt8] = []
        EndFrames.appendOK(streamID: 300, to: &end)
        #expect(end == (try FrameEncoder.encode(.end(End(streamID: 300, status: Status(code: .ok))))))
    }
}
