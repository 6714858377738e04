import Foundation
import JobWireProtocol

/// Reads typed members of a parsed JSON object, naming the member in every error.
package struct JSONMemberReader {
    let object: [String: Any]
    var path = ""

    package init(object: [String: Any], path: String = "") {
        self.object = object
        self.path = path
    }

    /// A JSON object from request bytes; `what` names it in errors.
    package static func object(from bytes: [UInt8], what: String) throws(JobWireError) -> [String: Any] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw JobWireError(.invalidArgument, Reason.malformedMessage, "\(what) is not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw JobWireError(.invalidArgument, Reason.malformedMessage, "\(what) must be a JSON object")
        }
        return object
    }

    /// Unknown members are errors that name the first (in sorted order).
    package func allowOnly(_ members: Set<String>) throws(JobWireError) {
        if let unknown = object.keys.sorted().first(where: { !members.contains($0) }) {
            throw JobWireError(.invalidArgument, Reason.fieldNotAllowed, "unknown field \"\(path)\(unknown.prefix(100))\"")
        }
    }

    package func has(_ key: String) -> Bool { object[key] != nil }

    package func strings(_ key: String) throws(JobWireError) -> [String]? {
        guard let value = value(key) else { return nil }
        guard let list = value as? [Any], let strings = list as? [String], strings.count == list.count else {
            throw wrongType(key, "a list of strings")
        }
        return strings
    }

    private func value(_ key: String) -> Any? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        return value
    }

    private func wrongType(_ key: String, _ expected: String) -> JobWireError {
        JobWireError(.invalidArgument, Reason.malformedMessage, "\(path)\(key) must be \(expected)")
    }

    package func string(_ key: String) throws(JobWireError) -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value as? String else { throw wrongType(key, "a string") }
        return text
    }

    package func number(_ key: String) throws(JobWireError) -> Double? {
        guard let value = value(key) else { return nil }
        return try Self.number(value, orThrow: wrongType(key, "a number"))
    }

    package func integer<Integer: FixedWidthInteger>(_ key: String) throws(JobWireError) -> Integer? {
        guard let number = try number(key) else { return nil }
        guard number.rounded() == number else { throw wrongType(key, "a whole number") }
        guard let integer = Integer(exactly: number) else {
            throw JobWireError(.invalidArgument, Reason.valueOutOfRange,
                               "\(path)\(key) must be between \(Integer.min) and \(Integer.max)")
        }
        return integer
    }

    package func numbers(_ key: String) throws(JobWireError) -> [Double]? {
        guard let value = value(key) else { return nil }
        guard let list = value as? [Any] else { throw wrongType(key, "a list of numbers") }
        var numbers: [Double] = []
        for element in list {
            numbers.append(try Self.number(element, orThrow: wrongType(key, "a list of numbers")))
        }
        return numbers
    }

    package func labels(_ key: String) throws(JobWireError) -> [String: String]? {
        guard let value = value(key) else { return nil }
        guard let labels = value as? [String: String] else { throw wrongType(key, "an object of strings") }
        return labels
    }

    package func object(_ key: String) throws(JobWireError) -> [String: Any]? {
        guard let value = value(key) else { return nil }
        guard let fields = value as? [String: Any] else { throw wrongType(key, "an object") }
        return fields
    }

    package func channelMap(_ key: String) throws(JobWireError) -> [UInt32: UInt32]? {
        guard let object = try object(key) else { return nil }
        var map: [UInt32: UInt32] = [:]
        for (channel, index) in object {
            let problem = JobWireError(.invalidArgument, Reason.malformedMessage,
                                       "\(path)\(key) must map channel numbers to stream indexes, such as {\"1\": 0}")
            guard let channel = UInt32(channel) else { throw problem }
            let number = try Self.number(index, orThrow: problem)
            guard let stream = UInt32(exactly: number) else { throw problem }
            map[channel] = stream
        }
        return map
    }

    private static func number(_ value: Any, orThrow error: JobWireError) throws(JobWireError) -> Double {
        // (On Linux a JSON 0 or 1 also bridges to Bool, so booleans cannot be told apart here.)
        guard let number = value as? NSNumber, !(value is String) else { throw error }
        return number.doubleValue
    }
}
