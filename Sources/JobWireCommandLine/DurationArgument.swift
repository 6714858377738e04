import ArgumentParser

/// A duration flag, one syntax for `jobwired` and `jobwire`: a number with a unit
/// (`500ms`, `2s`, `1.5s`, `15m`, `24h`, `7d`), or a plain number of seconds (`30`,
/// `0.5`). Whole milliseconds; negative, empty or non-decimal numbers are refused.
public struct DurationArgument: ExpressibleByArgument, Sendable, Equatable {
    /// The duration in whole milliseconds (fractions of a millisecond round to the nearest).
    public let milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    public init?(argument: String) {
        // Longest suffix first: "ms" also ends in "s".
        let units: [(suffix: String, factor: Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000),
                                                         ("d", 86_400_000)]
        let unit = units.first { argument.hasSuffix($0.suffix) }
        let number = unit.map { argument.dropLast($0.suffix.count) } ?? Substring(argument)
        guard let value = Self.decimal(number) else { return nil }
        let milliseconds = (value * (unit?.factor ?? 1000)).rounded()
        guard milliseconds < 9.2e18 else { return nil }
        self.milliseconds = Int64(milliseconds)
    }

    /// `123` or `1.25`: digits with at most one decimal point, nothing else (no sign,
    /// exponent, `inf` or `nan`, which `Double(_:)` would take).
    private static func decimal(_ text: Substring) -> Double? {
        var digits = 0
        var points = 0
        for character in text {
            if character == "." {
                points += 1
            } else if character.isASCII && character.isNumber {
                digits += 1
            } else {
                return nil
            }
        }
        guard digits > 0, points <= 1 else { return nil }
        return Double(text)
    }

    /// The duration as Swift's `Duration`.
    public var duration: Duration { .milliseconds(milliseconds) }

    public var defaultValueDescription: String {
        if milliseconds % 86_400_000 == 0 && milliseconds > 0 { return "\(milliseconds / 86_400_000)d" }
        if milliseconds % 3_600_000 == 0 && milliseconds > 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 && milliseconds > 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}
