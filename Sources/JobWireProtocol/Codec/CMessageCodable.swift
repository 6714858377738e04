internal import CJobWireProto

/// How a Swift message type maps onto its protobuf-c struct. Each message
/// implements the two conversions; packing and unpacking are shared here.
protocol CMessageCodable: WireMessage {
    associatedtype CStruct

    /// The message's name in errors, e.g. `Job`.
    static var protoName: StaticString { get }

    /// The generated `..._init` function: sets the descriptor and defaults.
    static func cInit(_ message: UnsafeMutablePointer<CStruct>)

    /// Copies and validates an unpacked C struct into a Swift value.
    init(c: borrowing CStruct) throws(JobWireError)

    /// Fills a C struct (already initialised by ``cInit(_:)``) from this
    /// value. Pointers it stores come from `arena`.
    func fill(_ c: UnsafeMutablePointer<CStruct>, arena: PackArena)
}

extension CMessageCodable {
    /// Shared ``WireMessage`` decoding; each message forwards to this.
    static func unpack(_ bytes: UnsafeRawBufferPointer, maxBytes: Int) throws(JobWireError) -> Self {
        let path = Self.protoName
        guard bytes.count <= maxBytes else {
            throw JobWireError(.resourceExhausted, Reason.messageTooLarge,
                               "\(path): \(bytes.count) bytes exceed the limit of \(maxBytes)")
        }
        // The descriptor is read from a freshly initialised struct, so the
        // pointer is the generated global itself, as protobuf-c requires.
        let descriptor = withUnsafeTemporaryAllocation(of: CStruct.self, capacity: 1) { buffer in
            let prototype = buffer.baseAddress.unsafelyUnwrapped
            Self.cInit(prototype)
            return UnsafeRawPointer(prototype).assumingMemoryBound(to: ProtobufCMessage.self).pointee.descriptor
        }
        let arena = DecodeArena(inputBytes: bytes.count)
        return try arena.withAllocator { (allocator) throws(JobWireError) -> Self in
            let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            // protobuf-c reads `len` bytes from `data`; an empty message may
            // have no base address, so give it a valid empty one.
            var empty: UInt8 = 0
            let unpacked = withUnsafePointer(to: &empty) { emptyPointer in
                protobuf_c_message_unpack(descriptor, allocator, bytes.count, base ?? emptyPointer)
            }
            guard let unpacked else {
                if arena.exhausted {
                    throw JobWireError(.resourceExhausted, Reason.messageTooComplex,
                                       "\(path): decoding needs more memory than a \(bytes.count)-byte message may use")
                }
                throw JobWireError.invalidArgument(Reason.malformedMessage,
                                                   "\(path): not a valid protobuf encoding")
            }
            let message = UnsafeRawPointer(unpacked).assumingMemoryBound(to: CStruct.self)
            return try Self(c: message.pointee)
        }
    }

    /// Shared ``WireMessage`` encoding; each message forwards to this.
    func pack(appendingTo buffer: inout [UInt8]) -> Int {
        let arena = PackArena()
        let message = arena.message(self)
        let base = UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self)
        let size = protobuf_c_message_get_packed_size(base)
        guard size > 0 else { return 0 }
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: size))
        let written = buffer.withUnsafeMutableBufferPointer { out in
            protobuf_c_message_pack(base, out.baseAddress.unsafelyUnwrapped + start)
        }
        precondition(written == size, "protobuf-c packed \(written) bytes, announced \(size)")
        return size
    }
}
