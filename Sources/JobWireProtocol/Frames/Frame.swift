internal import CJobWireProto

/// The envelope of every frame on a connection (`jobwire.v1.Frame`): exactly
/// one kind.
public enum Frame: Sendable, Equatable {
    case hello(Hello)
    case helloAck(HelloAck)
    case call(Call)
    case reply(Reply)
    case end(End)
    case cancelCall(CancelCall)
    case ping(Ping)
    case pong(Pong)
    case goAway(GoAway)
}

extension Frame: CMessageCodable {
    typealias CStruct = Jobwire__V1__Frame
    static let protoName: StaticString = "Frame"
    static func cInit(_ message: UnsafeMutablePointer<CStruct>) { jobwire__v1__frame__init(message) }

    init(c: borrowing CStruct) throws(JobWireError) {
        // The union's pointers share storage; each case reads only its own.
        switch c.kind_case {
        case JOBWIRE__V1__FRAME__KIND_HELLO: self = .hello(try Self.required(c.hello))
        case JOBWIRE__V1__FRAME__KIND_HELLO_ACK: self = .helloAck(try Self.required(c.hello_ack))
        case JOBWIRE__V1__FRAME__KIND_CALL: self = .call(try Self.required(c.call))
        case JOBWIRE__V1__FRAME__KIND_REPLY: self = .reply(try Self.required(c.reply))
        case JOBWIRE__V1__FRAME__KIND_END: self = .end(try Self.required(c.end))
        case JOBWIRE__V1__FRAME__KIND_CANCEL_CALL: self = .cancelCall(try Self.required(c.cancel_call))
        case JOBWIRE__V1__FRAME__KIND_PING: self = .ping(try Self.required(c.ping))
        case JOBWIRE__V1__FRAME__KIND_PONG: self = .pong(try Self.required(c.pong))
        case JOBWIRE__V1__FRAME__KIND_GOAWAY: self = .goAway(try Self.required(c.goaway))
        default:
            // A field protobuf-c did not know is kept as an unknown field: a
            // newer peer's frame kind, as opposed to an empty frame.
            if c.base.n_unknown_fields > 0 {
                throw JobWireError(.unimplemented, Reason.unknownFrameKind, "Frame: a frame kind this server does not know")
            }
            throw .invalidArgument(Reason.missingFrameKind, "Frame: no frame kind is set")
        }
    }

    private static func required<M: CMessageCodable>(_ pointer: UnsafeMutablePointer<M.CStruct>?) throws(JobWireError) -> M {
        guard let message: M = try CDecode.message(pointer) else {
            throw .invalidArgument(Reason.missingFrameKind, "Frame: the frame kind's message is missing")
        }
        return message
    }

    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena) {
        switch self {
        case .hello(let message):
            c.pointee.kind_case = JOBWIRE__V1__FRAME__KIND_HELLO
            c.pointee.hello = arena.message(message)
        case .helloAck(let message):
            c.pointee.kind_case = JOBWIRE__V1__FRAME__KIND_HELLO_ACK
            c.pointee.hello_ack = arena.message(message)
        case .call(let message):
            c.pointee.kind_case = JOBWIRE__V1__FRAME__KIND_CALL
            c.pointee.call = arena.message(message)
        case .reply(let message):
            c.pointee.kind_case = JOBWIRE__V1__FRAME__KIND_REPLY
            c.pointee.reply = arena.message(message)
        case .end(let message):
            c.pointee.kind_case = JOBWIRE__V1__FRAME__KIND_END
            c.pointee.end = arena.message(message)
        case .cancelCall(let message):
            c.pointee.kind_case = JOBWIRE__V1__FRAME__KIND_CANCEL_CALL
            c.pointee.cancel_call = arena.message(message)
        case .ping(let message):
            c.pointee.kind_case = JOBWIRE__V1__FRAME__KIND_PING
            c.pointee.ping = arena.message(message)
        case .pong(let message):
            c.pointee.kind_case = JOBWIRE__V1__FRAME__KIND_PONG
            c.pointee.pong = arena.message(message)
        case .goAway(let message):
            c.pointee.kind_case = JOBWIRE__V1__FRAME__KIND_GOAWAY
            c.pointee.goaway = arena.message(message)
        }
    }

    public init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) {
        self = try Self.unpack(bytes, maxBytes: maxBytes)
    }

    public func encode(appendingTo buffer: inout [UInt8]) -> Int { pack(appendingTo: &buffer) }
}
