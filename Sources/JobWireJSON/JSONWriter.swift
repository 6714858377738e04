/// Writes a ``JSONValue`` as UTF-8 (RFC 8259): strings escaped where JSON
/// requires it and nowhere else, numbers in their shortest exact form.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    private let pretty: Bool
    private var depth = 0

    init(pretty: Bool) {
        self.pretty = pretty
    }

    mutating func write(_ value: JSONValue) {
        switch value {
        case .null:
            append("null")
        case .bool(let flag):
            append(flag ? "true" : "false")
        case .int(let number):
            append(String(number))
        case .double(let number):
            // Swift's description is the shortest round-tripping form ("1.02", "2000.0", "1e-07").
            append(number.isFinite ? String(describing: number) : "null")
        case .string(let text):
            writeString(text)
        case .raw(let json):
            bytes.append(contentsOf: json)
        case .array(let elements):
            writeContainer(open: UInt8(ascii: "["), close: UInt8(ascii: "]"), count: elements.count) { writer, index in
                writer.write(elements[index])
            }
        case .object(let members):
            writeContainer(open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), count: members.count) { writer, index in
                writer.writeString(members[index].key)
                writer.append(writer.pretty ? ": " : ":")
                writer.write(members[index].value)
            }
        }
    }

    private mutating func writeContainer(open: UInt8, close: UInt8, count: Int,
                                         element: (inout JSONWriter, Int) -> Void) {
        bytes.append(open)
        guard count > 0 else {
            bytes.append(close)
            return
        }
        depth += 1
        for index in 0..<count {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            newline()
            element(&self, index)
        }
        depth -= 1
        newline()
        bytes.append(close)
    }

    private mutating func newline() {
        guard pretty else { return }
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * depth))
    }

    private mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case UInt8(ascii: "\n"): append("\\n")
            case UInt8(ascii: "\r"): append("\\r")
            case UInt8(ascii: "\t"): append("\\t")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            case 0..<0x20:
                append("\\u00")
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

}
