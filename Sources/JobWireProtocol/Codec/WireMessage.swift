/// A JobWire protocol message: a Swift value that encodes to and decodes from
/// the protobuf wire format of `proto/jobwire/v1/jobwire.proto`, through
/// protobuf-c.
///
/// Decoding validates what protobuf-c does not: UTF-8 in strings, enum values
/// in range, job ids as UUIDs and every field within ``Limits``. It never
/// crashes and never leaks, whatever the input; every failure is a
/// ``JobWireError`` with a code and reason.
public protocol WireMessage: Sendable, Equatable {
    /// Decodes `bytes`, refusing input longer than `maxBytes` before reading it.
    init(decoding bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError)

    /// The protobuf encoding of this message. Map entries are written in key
    /// order, so equal values always encode to equal bytes.
    func encode() -> [UInt8]

    /// Appends the encoding to `buffer` and returns its length, packing
    /// straight into the buffer's storage.
    @discardableResult
    func encode(appendingTo buffer: inout [UInt8]) -> Int
}

extension WireMessage {
    /// Decodes `bytes` with the default frame size as the limit.
    public init(decoding bytes: [UInt8], maxBytes: Int = Limits.defaultMaxFrameBytes) throws(JobWireError) {
        self = try bytes.withTypedUnsafeBytes { (raw) throws(JobWireError) -> Self in
            try Self(decoding: raw, maxBytes: maxBytes)
        }
    }

    /// The message as the server would decode it from the wire: the same
    /// validation (UUIDs, enums, ``Limits``) and the same canonical values.
    /// Front ends that build requests from another encoding (JSON, a URL)
    /// pass them through here, so no rule is written twice.
    public func validated() throws(JobWireError) -> Self {
        try Self(decoding: encode(), maxBytes: .max)
    }

    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        encode(appendingTo: &out)
        return out
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the typed error (the standard one rethrows `any Error`).
    func withTypedUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws(JobWireError) -> R) throws(JobWireError) -> R {
        try withUnsafeBytes { raw in Result { () throws(JobWireError) -> R in try body(raw) } }.get()
    }
}
