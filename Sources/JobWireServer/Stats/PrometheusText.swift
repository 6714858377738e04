/// Prometheus' text exposition format, version 0.0.4 (what `GET /metrics`
/// answers): each family's `# HELP` and `# TYPE` once, then its samples. It
/// is written at scrape time from counters the server keeps anyway, so
/// exporting metrics adds nothing to any call's path.
public struct PrometheusText: Sendable {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram, untyped
    }

    /// The media type of the format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private struct Family {
        var kind: Kind
        var help: String
        var samples = ""
    }

    /// Families in the order they were first named; samples go to their family wherever they are added, so a
    /// subsystem can add its own series (a port's connections) to a family the core started.
    private var order: [String] = []
    private var families: [String: Family] = [:]

    public init() {}

    /// The exposition: each family's `# HELP`, `# TYPE` and samples together.
    public var text: String {
        var text = ""
        for name in order {
            guard let family = families[name] else { continue }
            if !family.help.isEmpty { text += "# HELP \(name) \(Self.escapeHelp(family.help))\n" }
            text += "# TYPE \(name) \(family.kind.rawValue)\n\(family.samples)"
        }
        return text
    }

    /// Names a family (the first time; later calls with the same name are ignored).
    public mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        guard families[name] == nil else { return }
        order.append(name)
        families[name] = Family(kind: kind, help: help)
    }

    public mutating func sample(_ name: String, _ value: Double) {
        append(name, [], Self.format(value))
    }

    public mutating func sample(_ name: String, _ value: some BinaryInteger) {
        append(name, [], "\(value)")
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        append(name, labels, Self.format(value))
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)], _ value: some BinaryInteger) {
        append(name, labels, "\(value)")
    }

    private mutating func append(_ name: String, _ labels: [(String, String)], _ value: String) {
        var line = name
        Self.append(labels, to: &line)
        line += " \(value)\n"
        let family = Self.family(of: name, in: families)
        if families[family] == nil {
            // A sample of a family never named: exposed as untyped rather than dropped.
            order.append(family)
            families[family] = Family(kind: .untyped, help: "")
        }
        families[family]?.samples += line
    }

    /// The family a sample belongs to: its own name, or a histogram's for `_bucket`, `_sum` and `_count`.
    private static func family(of sample: String, in families: [String: Family]) -> String {
        if families[sample] != nil { return sample }
        for suffix in ["_bucket", "_sum", "_count"] where sample.hasSuffix(suffix) {
            let base = String(sample.dropLast(suffix.count))
            if families[base]?.kind == .histogram { return base }
        }
        return sample
    }

    /// A histogram's samples (its family already started): cumulative `_bucket`s by upper bound `le`, ending with
    /// `+Inf`, then `_sum` and `_count`.
    public mutating func histogram(_ name: String, _ histogram: PrometheusHistogram) {
        self.histogram(name, [], histogram)
    }

    public mutating func histogram(_ name: String, _ labels: [(String, String)], _ histogram: PrometheusHistogram) {
        for (bound, count) in histogram.cumulative {
            sample("\(name)_bucket", labels + [("le", Self.format(bound))], count)
        }
        sample("\(name)_bucket", labels + [("le", "+Inf")], histogram.count)
        sample("\(name)_sum", labels, histogram.sum)
        sample("\(name)_count", labels, histogram.count)
    }

    private static func append(_ labels: [(String, String)], to text: inout String) {
        guard !labels.isEmpty else { return }
        text += "{"
        for (index, (name, value)) in labels.enumerated() {
            if index > 0 { text += "," }
            text += "\(name)=\"\(escapeLabel(value))\""
        }
        text += "}"
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func escapeLabel(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func escapeHelp(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

/// A histogram as Prometheus wants it: counts at or below each bound (cumulative), the sum and the count.
public struct PrometheusHistogram: Sendable {
    public var cumulative: [(bound: Double, count: UInt64)]
    public var sum: Double
    public var count: UInt64

    public init(cumulative: [(bound: Double, count: UInt64)], sum: Double, count: UInt64) {
        self.cumulative = cumulative
        self.sum = sum
        self.count = count
    }
}
