/// A message held as the bytes of its protobuf encoding: what the server
/// caches once per revision of a job and splices into replies. A front end
/// that speaks protobuf sends ``bytes`` as they are; one that needs values
/// (JSON) decodes them with ``decoded()``.
public struct Encoded<Message: WireMessage>: Sendable, Equatable {
    public let bytes: [UInt8]

    @inlinable
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    @inlinable
    public init(_ message: Message) {
        self.bytes = message.encode()
    }

    /// The message these bytes encode.
    public func decoded() throws(JobWireError) -> Message {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(JobWireError) -> Message in try Message(decoding: buffer, maxBytes: .max) }
        }.get()
    }
}
