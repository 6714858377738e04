/// Times as the job's JSON shape writes them: ISO 8601 in UTC with exactly
/// three fractional digits (`2026-11-22T21:00:00.123Z`), computed from the
/// milliseconds without a formatter (a job's JSON has five of them).
public enum ISO8601 {
    /// `milliseconds` since the Unix epoch, as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func string(milliseconds: Int64) -> String {
        let (days, millisecondOfDay) = milliseconds.quotientAndRemainder(dividingBy: 86_400_000)
        let (dayShift, millisecond) = millisecondOfDay < 0 ? (Int64(-1), millisecondOfDay + 86_400_000)
                                                            : (Int64(0), millisecondOfDay)
        let (year, month, day) = civil(fromDays: days + dayShift)
        let seconds = millisecond / 1000
        var text = pad(year, 4)
        text += "-" + pad(month, 2) + "-" + pad(day, 2)
        text += "T" + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
        text += "." + pad(millisecond % 1000, 3) + "Z"
        return text
    }

    /// Year, month and day of the day `days` after 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`, exact for the proleptic Gregorian calendar).
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
