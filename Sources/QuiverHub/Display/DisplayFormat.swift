import Foundation

/// Numbers, sizes and dates as people read them: one format for the CLI's tables, transfer
/// progress and the web page of `quiver serve`.
public enum DisplayFormat {
    /// 1234567 → "1,234,567".
    public static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.reversed().enumerated() {
            if index > 0, index % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + String(result.reversed())
    }

    /// Bytes in binary units: "512 B", "12.3 KiB", "1.20 MiB".
    public static func size(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        return String(format: value < 10 ? "%.2f %@" : "%.1f %@", value, units[unit])
    }

    /// "2025-11-29 23:25" (UTC, to the minute).
    public static func date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0, parts.minute ?? 0)
    }

    /// ISO 8601, for `<time datetime>` and sorting.
    public static func isoDate(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
