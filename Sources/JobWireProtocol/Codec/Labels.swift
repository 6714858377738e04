/// Label maps (`Job.labels`, `ListJobsRequest.labels`): keys of 1 to
/// ``Limits/maxLabelKeyBytes`` bytes, values of at most
/// ``Limits/maxLabelValueBytes``, at most ``Limits/maxLabels`` entries.
enum Labels {
    static func entry(key: UnsafePointer<CChar>?, value: UnsafePointer<CChar>?,
                      _ field: StaticString) throws(JobWireError) -> (String, String) {
        let key = try CDecode.string(key, field, max: Limits.maxLabelKeyBytes)
        guard !key.isEmpty else {
            throw .invalidArgument(Reason.fieldTooLong, "\(field): a label key must not be empty")
        }
        return (key, try CDecode.string(value, field, max: Limits.maxLabelValueBytes))
    }

    /// Entries in key order, so equal maps encode to equal bytes.
    static func sorted(_ labels: [String: String]) -> [(key: String, value: String)] {
        labels.sorted { $0.key < $1.key }
    }

    /// A label map as protobuf-c's entry array, in key order; `set` stores a key and a value into an entry.
    static func pack<Entry>(_ labels: [String: String], arena: PackArena, initializer: (UnsafeMutablePointer<Entry>) -> Void,
                            set: (UnsafeMutablePointer<Entry>, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<CChar>) -> Void)
        -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?) {
        arena.messages(sorted(labels), { label, entry in set(entry, arena.cString(label.key), arena.cString(label.value)) },
                       initializer: initializer)
    }
}
