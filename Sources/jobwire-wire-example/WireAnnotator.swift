import JobWireProtocol

/// Walks protobuf bytes and prints each field with its name, as an annotated
/// hex dump. The bytes come from the real codec; the annotator only names
/// what it finds, using the small schema below (field numbers and names as
/// in proto/jobwire/v1/jobwire.proto).
struct WireAnnotator {
    enum Kind {
        case varint, enumeration, fixed64Double, string, bytes
        case message(String)
        /// A `bytes` field that holds an encoded message of the given type.
        case embedded(String)
    }

    static let schema: [String: [UInt64: (name: String, kind: Kind)]] = [
        "Frame": [1: ("hello", .message("Hello")), 2: ("hello_ack", .message("HelloAck")), 3: ("call", .message("Call")),
                  4: ("reply", .message("Reply")), 5: ("end", .message("End"))],
        "Hello": [1: ("protocol_version", .varint), 2: ("api_key", .string), 3: ("client_name", .string),
                  4: ("max_frame_bytes", .varint)],
        "HelloAck": [1: ("protocol_version", .varint), 2: ("server_name", .string), 3: ("max_frame_bytes", .varint),
                     4: ("max_concurrent_streams", .varint), 5: ("ping_interval_ms", .varint), 6: ("tenant", .string),
                     7: ("role", .string)],
        "Call": [1: ("stream_id", .varint), 2: ("method", .string), 3: ("request", .embedded("GetMetadataRequest")),
                 4: ("timeout_ms", .varint)],
        "GetMetadataRequest": [1: ("job_id", .string), 2: ("log_tail", .varint)],
        "Reply": [1: ("stream_id", .varint), 2: ("message", .embedded("Job"))],
        "End": [1: ("stream_id", .varint), 2: ("status", .message("Status"))],
        "Status": [1: ("code", .enumeration), 2: ("reason", .string), 3: ("message", .string), 4: ("retry_after_ms", .varint)],
        "Job": [1: ("job_id", .string), 2: ("tenant", .string), 3: ("type", .string),
                4: ("labels", .message("LabelsEntry")), 5: ("priority", .varint), 10: ("stream_url", .string),
                11: ("stream_port", .varint), 12: ("view_type", .varint), 13: ("frequencies_list", .bytes),
                14: ("lines_dt", .fixed64Double), 15: ("channel_to_stream_index", .message("ChannelToStreamIndexEntry")),
                16: ("stream_amount", .varint), 17: ("frequencies_amount", .varint), 18: ("channel_amount", .varint),
                19: ("metadata", .message("StreamMetadata")), 20: ("status", .enumeration),
                21: ("progress", .fixed64Double), 22: ("current_task", .string), 23: ("eta_seconds", .fixed64Double),
                30: ("created_at_ms", .varint), 31: ("updated_at_ms", .varint), 34: ("lease_expires_at_ms", .varint),
                50: ("log_tail", .string), 51: ("log_line_count", .varint), 60: ("revision", .varint)],
        "LabelsEntry": [1: ("key", .string), 2: ("value", .string)],
        "ChannelToStreamIndexEntry": [1: ("key", .varint), 2: ("value", .varint)],
        "StreamMetadata": [1: ("dx", .fixed64Double), 2: ("prr", .fixed64Double), 3: ("fiber_start_meters", .fixed64Double),
                           4: ("fiber_length_meters", .fixed64Double), 5: ("sw_version", .string)],
    ]

    private(set) var lines: [String] = []
    private static let hexColumn = 50
    private static let bytesPerLine = 12

    mutating func annotateFrame(direction: String, frame bytes: [UInt8]) {
        let body = Array(bytes.dropFirst(4))
        lines.append("\(direction): \(bytes.count) bytes")
        emit(Array(bytes.prefix(4)), indent: 1, note: "length prefix: \(body.count) (big-endian uint32)")
        annotate(body[...], message: "Frame", indent: 1)
        lines.append("")
    }

    private mutating func annotate(_ bytes: ArraySlice<UInt8>, message: String, indent: Int) {
        var cursor = bytes.startIndex
        while cursor < bytes.endIndex {
            let start = cursor
            let key = readVarint(bytes, &cursor)
            let fieldNumber = key >> 3
            let wireType = key & 7
            let field = Self.schema[message]?[fieldNumber] ?? (name: "field \(fieldNumber)", kind: .bytes)
            let label = "\(message).\(field.name) (field \(fieldNumber)"
            switch wireType {
            case 0:
                let value = readVarint(bytes, &cursor)
                let shown = if case .enumeration = field.kind { "\(value) (\(Self.enumName(message, value)))" } else { "\(value)" }
                emit(Array(bytes[start..<cursor]), indent: indent, note: "\(label), varint) = \(shown)")
            case 1:
                let raw = bytes[cursor..<(cursor + 8)]
                cursor += 8
                let bits = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                emit(Array(bytes[start..<cursor]), indent: indent, note: "\(label), fixed64) = \(Double(bitPattern: bits))")
            case 2:
                let length = Int(readVarint(bytes, &cursor))
                let header = Array(bytes[start..<cursor])
                let payload = bytes[cursor..<(cursor + length)]
                cursor += length
                switch field.kind {
                case .message(let name), .embedded(let name):
                    let what = if case .embedded = field.kind { "bytes holding an encoded \(name)" } else { name }
                    emit(header, indent: indent, note: "\(label), \(length) bytes): \(what)")
                    annotate(payload, message: name, indent: indent + 1)
                case .string:
                    emit(header + payload, indent: indent, note: "\(label), \(length) bytes) = \"\(String(decoding: payload, as: UTF8.self))\"")
                default:
                    let doubles = message == "Job" && fieldNumber == 13
                        ? " = packed doubles " + stride(from: payload.startIndex, to: payload.endIndex, by: 8).map { offset in
                            "\(Double(bitPattern: payload[offset..<(offset + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))"
                        }.joined(separator: ", ")
                        : ""
                    emit(header + payload, indent: indent, note: "\(label), \(length) bytes)\(doubles)")
                }
            default:
                emit(Array(bytes[start...]), indent: indent, note: "unexpected wire type \(wireType)")
                return
            }
        }
    }

    private static func enumName(_ message: String, _ value: UInt64) -> String {
        let raw = Int32(truncatingIfNeeded: value)
        if message == "Status" { return StatusCode(rawValue: raw)?.name ?? "unknown" }
        return JobStatus(rawValue: raw).map { "JOB_STATUS_" + $0.name.uppercased() } ?? "unknown"
    }

    private func readVarint(_ bytes: ArraySlice<UInt8>, _ cursor: inout Int) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < bytes.endIndex {
            let byte = bytes[cursor]
            cursor += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        return value
    }

    /// Hex on the left (wrapped), the note on the first line's right.
    private mutating func emit(_ bytes: [UInt8], indent: Int, note: String) {
        let pad = String(repeating: "  ", count: indent)
        var chunks = stride(from: 0, to: bytes.count, by: Self.bytesPerLine).map {
            bytes[$0..<min($0 + Self.bytesPerLine, bytes.count)].map { hex($0) }.joined(separator: " ")
        }
        if chunks.isEmpty { chunks = [""] }
        for (index, chunk) in chunks.enumerated() {
            let left = pad + chunk
            if index == 0 {
                lines.append(left + String(repeating: " ", count: max(1, Self.hexColumn - left.count)) + note)
            } else {
                lines.append(left)
            }
        }
    }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
