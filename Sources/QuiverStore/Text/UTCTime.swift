import Foundation

/// A date's UTC calendar fields to the second (rounded down), by arithmetic on its seconds since 1970 in the
/// proleptic Gregorian calendar, as `Calendar` and `ISO8601DateFormatter` count. `quiver list` prints a date per
/// version: a formatter or a `Calendar` takes microseconds per date, this arithmetic a few nanoseconds.
public struct UTCTime: Sendable, Equatable {
    public var year, month, day, hour, minute, second: Int

    /// The fields of `date`; a date more than 30 million years from 1970 (no catalog holds one) reads as 1970.
    public init(_ date: Date) {
        let interval = date.timeIntervalSince1970.rounded(.down)
        let seconds = abs(interval) < 1e15 ? Int(interval) : 0
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        (hour, minute, second) = (secondOfDay / 3600, secondOfDay % 3600 / 60, secondOfDay % 60)
        // Days to a civil date (Howard Hinnant's `civil_from_days`): 400-year eras starting on 1 March.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// `2025-11-29T23:25:07Z`, as `JSONEncoder`'s `.iso8601` strategy writes it.
    public var iso8601: String {
        ASCIIText.make(capacity: 48) { text in
            putDay(into: &text)
            text.put("T")
            putTime(into: &text)
            text.put(":")
            text.put(digitsOf: second, width: 2)
            text.put("Z")
        }
    }

    /// `2025-11-29 23:25`.
    public var toTheMinute: String {
        ASCIIText.make(capacity: 48) { text in
            putDay(into: &text)
            text.put(" ")
            putTime(into: &text)
        }
    }

    private func putDay(into text: inout ASCIIText) {
        if year < 0 { text.put("-") }
        text.put(digitsOf: Int(year.magnitude), width: 4)
        text.put("-")
        text.put(digitsOf: month, width: 2)
        text.put("-")
        text.put(digitsOf: day, width: 2)
    }

    private func putTime(into text: inout ASCIIText) {
        text.put(digitsOf: hour, width: 2)
        text.put(":")
        text.put(digitsOf: minute, width: 2)
    }
}
