internal import CJobWireProto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Scratch memory for building the C structs that protobuf-c packs: C strings,
/// arrays and nested messages. Everything is released together when the pack
/// is done, so building a message needs no per-field bookkeeping.
///
/// Owned by one encode call; never shared across threads.
final class PackArena {
    /// Large enough for a typical job (hundreds of frequencies, tens of
    /// channels) in one block.
    private var blocks = ArenaBlocks(firstBlockBytes: 16 * 1024, largestBlockBytes: 1024 * 1024)

    init() {}

    deinit {
        blocks.releaseAll()
    }

    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        // Out of memory while encoding is not recoverable in any useful way.
        guard let memory = blocks.allocate(bytes) else {
            fatalError("JobWire: out of memory while encoding a message")
        }
        return memory
    }

    func array<T>(of type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        allocate(bytes: MemoryLayout<T>.stride * count).bindMemory(to: T.self, capacity: count)
    }

    /// A NUL-terminated copy of `string`, as protobuf-c expects for `string` fields.
    func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            let out = allocate(bytes: utf8.count + 1)
            if let base = utf8.baseAddress {
                out.copyMemory(from: base, byteCount: utf8.count)
            }
            out.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
            return out.bindMemory(to: CChar.self, capacity: utf8.count + 1)
        }
    }

    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let out = array(of: UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { out.update(from: $0.baseAddress.unsafelyUnwrapped, count: bytes.count) }
        return ProtobufCBinaryData(len: bytes.count, data: out)
    }

    func cStrings(_ strings: [String]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard !strings.isEmpty else { return (0, nil) }
        let out = array(of: UnsafeMutablePointer<CChar>?.self, count: strings.count)
        for (index, string) in strings.enumerated() {
            out[index] = cString(string)
        }
        return (strings.count, out)
    }

    func doubles(_ values: [Double]) -> (Int, UnsafeMutablePointer<Double>?) {
        guard !values.isEmpty else { return (0, nil) }
        let out = array(of: Double.self, count: values.count)
        values.withUnsafeBufferPointer { out.update(from: $0.baseAddress.unsafelyUnwrapped, count: values.count) }
        return (values.count, out)
    }

    /// A C struct for `value`, initialised with its protobuf-c defaults and
    /// then filled.
    func message<M: CMessageCodable>(_ value: M) -> UnsafeMutablePointer<M.CStruct> {
        let out = array(of: M.CStruct.self, count: 1)
        M.cInit(out)
        value.fill(out, arena: self)
        return out
    }

    /// An array of pointers to C structs, one per element, for repeated
    /// message fields and maps.
    func messages<T, C>(_ values: some Collection<T>, _ make: (T, UnsafeMutablePointer<C>) -> Void, initializer: (UnsafeMutablePointer<C>) -> Void) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<C>?>?) {
        guard !values.isEmpty else { return (0, nil) }
        let pointers = array(of: UnsafeMutablePointer<C>?.self, count: values.count)
        let structs = array(of: C.self, count: values.count)
        for (index, value) in values.enumerated() {
            let element = structs + index
            initializer(element)
            make(value, element)
            pointers[index] = element
        }
        return (values.count, pointers)
    }

    /// Repeated message fields.
    func messages<M: CMessageCodable>(_ values: [M]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<M.CStruct>?>?) {
        messages(values, { value, element in value.fill(element, arena: self) }, initializer: M.cInit)
    }
}
