internal import CJobWireProto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Copies fields out of unpacked protobuf-c structs into Swift values,
/// checking what protobuf-c does not: UTF-8, enum ranges, UUIDs and limits.
/// `field` names the field in errors as `Message.field`.
enum CDecode {
    static func string(_ pointer: UnsafePointer<CChar>?, _ field: StaticString,
                       max: Int = Limits.maxShortStringBytes) throws(JobWireError) -> String {
        guard let pointer else { return "" }
        let length = strlen(pointer)
        guard length <= max else {
            throw .invalidArgument(Reason.fieldTooLong, "\(field): \(length) bytes exceed the limit of \(max)")
        }
        // The C-string initialiser validates through the standard library's
        // specialised UTF-8 path; the generic `String(validating:as:)` looks
        // up type metadata on every call, which profiling showed costs more
        // than the validation itself.
        guard let string = String(validatingCString: pointer) else {
            throw .invalidArgument(Reason.invalidUTF8, "\(field): not valid UTF-8")
        }
        return string
    }

    static func strings(_ count: Int, _ pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                        _ field: StaticString, maxCount: Int,
                        maxEach: Int = Limits.maxShortStringBytes) throws(JobWireError) -> [String] {
        try checkCount(count, field, max: maxCount)
        guard let pointers, count > 0 else { return [] }
        var result: [String] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            result.append(try string(pointers[index], field, max: maxEach))
        }
        return result
    }

    static func bytes(_ data: ProtobufCBinaryData, _ field: StaticString, max: Int) throws(JobWireError) -> [UInt8] {
        guard data.len <= max else {
            throw .invalidArgument(Reason.fieldTooLong, "\(field): \(data.len) bytes exceed the limit of \(max)")
        }
        guard let base = data.data, data.len > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: base, count: data.len))
    }

    static func doubles(_ count: Int, _ values: UnsafeMutablePointer<Double>?, _ field: StaticString,
                        maxCount: Int) throws(JobWireError) -> [Double] {
        try checkCount(count, field, max: maxCount)
        guard let values, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: values, count: count))
    }

    static func checkCount(_ count: Int, _ field: StaticString, max: Int) throws(JobWireError) {
        guard count <= max else {
            throw .invalidArgument(Reason.tooManyElements, "\(field): \(count) entries exceed the limit of \(max)")
        }
    }

    /// A protobuf enum field; numbers the Swift enum does not define are refused.
    static func enumeration<E: RawRepresentable>(_ raw: some BinaryInteger, _ field: StaticString) throws(JobWireError) -> E
    where E.RawValue == Int32 {
        guard let narrow = Int32(exactly: raw), let value = E(rawValue: narrow) else {
            throw .invalidArgument(Reason.invalidEnumValue, "\(field): \(raw) is not a defined value")
        }
        return value
    }

    /// A job id that must be present and be a UUID; returned in canonical form.
    static func jobID(_ pointer: UnsafePointer<CChar>?, _ field: StaticString) throws(JobWireError) -> String {
        let text = try string(pointer, field)
        guard let canonical = JobID.canonical(text) else {
            throw .invalidArgument(Reason.invalidJobID, "\(field): \"\(text.prefix(64))\" is not a UUID")
        }
        return canonical
    }

    /// A job id that may be empty (a job not created yet).
    static func optionalJobID(_ pointer: UnsafePointer<CChar>?, _ field: StaticString) throws(JobWireError) -> String {
        guard let pointer, pointer.pointee != 0 else { return "" }
        return try jobID(pointer, field)
    }

    static func message<M: CMessageCodable>(_ pointer: UnsafeMutablePointer<M.CStruct>?) throws(JobWireError) -> M? {
        guard let pointer else { return nil }
        return try M(c: pointer.pointee)
    }

    static func messages<M: CMessageCodable>(_ count: Int, _ pointers: UnsafeMutablePointer<UnsafeMutablePointer<M.CStruct>?>?,
                                             _ field: StaticString, maxCount: Int) throws(JobWireError) -> [M] {
        try checkCount(count, field, max: maxCount)
        guard let pointers, count > 0 else { return [] }
        var result: [M] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            guard let element = pointers[index] else {
                throw .invalidArgument(Reason.malformedMessage, "\(field): missing element \(index)")
            }
            result.append(try M(c: element.pointee))
        }
        return result
    }

    /// A map field: protobuf-c represents it as an array of entry messages.
    /// A key that appears twice keeps its last value, as protobuf specifies.
    static func map<Entry, Key: Hashable, Value>(
        _ count: Int, _ entries: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?,
        _ field: StaticString, maxCount: Int,
        _ convert: (borrowing Entry) throws(JobWireError) -> (Key, Value)
    ) throws(JobWireError) -> [Key: Value] {
        try checkCount(count, field, max: maxCount)
        guard let entries, count > 0 else { return [:] }
        var result: [Key: Value] = [:]
        result.reserveCapacity(count)
        for index in 0..<count {
            guard let entry = entries[index] else {
                throw .invalidArgument(Reason.malformedMessage, "\(field): missing entry \(index)")
            }
            let (key, value) = try convert(entry.pointee)
            result[key] = value
        }
        return result
    }
}
