import Foundation
import QuiverHub
import Testing

/// Counts, sizes and dates are worked out by arithmetic: the same text as the formatters they replace.
@Suite struct DisplayFormatTests {
    /// What `size` wrote through `String(format:)`.
    static func formattedSize(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: value < 10 ? "%.2f %@" : "%.1f %@", value, units[unit])
    }

    @Test func sizesAreWhatPrintfWrites() {
        var generator = SystemRandomNumberGenerator()
        let ties = [1152, 1_179_648, 10_188, 10_189, 10_239, 10_240, 1_048_064, 1_048_575, 1_048_576]  // x.xx5 and unit edges
        let sizes = Array(0..<3000) + ties + (0..<20_000).map { _ in Int.random(in: 0..<(1 << 52), using: &generator) >> Int.random(in: 0..<50, using: &generator) }
        for bytes in sizes { #expect(DisplayFormat.size(bytes) == Self.formattedSize(bytes), "\(bytes)") }
    }

    @Test func countsGroupThousands() {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.usesGroupingSeparator = true
        formatter.groupingSeparator = ","
        formatter.groupingSize = 3
        for value in [0, 7, 999, 1000, 12_345, 999_999, 1_000_000, 1_234_567_890, -1, -1000, -987_654_321, Int.max] {
            #expect(DisplayFormat.count(value) == formatter.string(from: NSNumber(value: value)), "\(value)")
        }
    }

    /// Dates as `Calendar` splits them (what `date` used) and as `JSONEncoder`'s `.iso8601` writes them (the JSON API's
    /// and `quiver list --json`'s): both round down to the second, where `ISO8601DateFormatter` rounds to the millisecond.
    @Test func datesAreWhatCalendarAndJSONEncoderMakeOfThem() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        var generator = SystemRandomNumberGenerator()
        // 1600 to 2400 (leap centuries, before 1970), whole and fractional seconds, and day and year boundaries.
        let seconds = (0..<5000).map { _ in Double.random(in: -11_676_096_000 ... 13_569_465_600, using: &generator) }
            + [0, -0.5, -1, 59.999, 59.9999, 86_399.999, 86_400, 951_782_400, 951_868_799.5, 1_767_225_599.9999, 1_767_225_600]
        for interval in seconds {
            let date = Date(timeIntervalSince1970: interval)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
            let minute = String(format: "%04d-%02d-%02d %02d:%02d", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!)
            #expect(DisplayFormat.date(date) == minute, "\(interval)")
            #expect("[\"\(DisplayFormat.isoDate(date))\"]" == String(decoding: try encoder.encode([date]), as: UTF8.self), "\(interval)")
        }
    }
}
