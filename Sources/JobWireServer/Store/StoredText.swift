/// Lists and maps a store keeps as one text column: one value per line, with
/// `%`, line feeds and `=` percent-escaped so that any label key or value
/// reads back exactly. The SQLite and PostgreSQL stores write the same text.
package enum StoredText {
    package static func list(_ values: [String]) -> String { values.map(escape).joined(separator: "\n") }

    package static func list(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map { unescape($0) }
    }

    package static func pairs(_ labels: [String: String]) -> String {
        labels.sorted { $0.key < $1.key }.map { "\(escape($0.key))=\(escape($0.value))" }.joined(separator: "\n")
    }

    package static func pairs(_ text: String) -> [String: String] {
        var labels: [String: String] = [:]
        guard !text.isEmpty else { return labels }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { labels[unescape(parts[0])] = unescape(parts[1]) }
        }
        return labels
    }

    package static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\n", with: "%0A")
            .replacingOccurrences(of: "=", with: "%3D")
    }

    package static func unescape(_ value: Substring) -> String {
        value.replacingOccurrences(of: "%3D", with: "=").replacingOccurrences(of: "%0A", with: "\n")
            .replacingOccurrences(of: "%25", with: "%")
    }
}
