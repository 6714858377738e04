/// A JSON value with its members in a fixed order, written byte for byte the
/// same every time (golden files and caches rely on that). Built by
/// ``JobJSON`` and by callers that wrap a job in an envelope of their own.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    /// Written as the shortest text that reads back as the same double; NaN and
    /// the infinities, which JSON has no words for, are written as `null`.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([Member])
    /// Text that is already JSON (checked by whoever made it), written as is.
    case raw([UInt8])

    /// One member of an object.
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue

        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// An object from key-value pairs, in the order given.
    public static func object(_ pairs: KeyValuePairs<String, JSONValue>) -> JSONValue {
        .object(pairs.map { Member($0.key, $0.value) })
    }

    /// The UTF-8 text of the value: compact, or indented by two spaces a level.
    public func encoded(pretty: Bool = false) -> [UInt8] {
        var writer = JSONWriter(pretty: pretty)
        writer.write(self)
        return writer.bytes
    }

    /// ``encoded(pretty:)`` as a `String`.
    public func text(pretty: Bool = false) -> String {
        String(decoding: encoded(pretty: pretty), as: UTF8.self)
    }
}
