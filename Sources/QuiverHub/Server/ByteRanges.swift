import Foundation

/// The byte ranges of request headers: a blob download's `Range: bytes=…` and an upload chunk's
/// `Content-Range: START-END`. Pure functions of the header text, so they are tested and fuzzed without a server.
enum ByteRanges {
    /// A single byte range of `Range: bytes=…` for a blob of `size` bytes, or nil for the whole blob.
    ///
    /// - Throws: `RANGE_INVALID` (416, with `Content-Range: bytes */SIZE`) for a range that is
    ///   malformed, multiple or outside the blob.
    static func blobRange(_ header: String?, size: Int) throws(RegistryError) -> ClosedRange<Int>? {
        guard let header else { return nil }
        let unsatisfiable = RegistryError(
            .rangeInvalid, "range '\(header.prefix(100))' is not one satisfiable byte range of this \(size)-byte blob",
            status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(size)"])
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix("bytes="), !text.contains(",") else { throw unsatisfiable }
        let spec = text.dropFirst("bytes=".count)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw unsatisfiable }
        let first = parts[0].trimmingCharacters(in: .whitespaces), last = parts[1].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            guard let suffix = Int(last), suffix > 0, size > 0 else { throw unsatisfiable }
            return max(0, size - suffix)...(size - 1)
        }
        guard let start = Int(first), start >= 0, start < size else { throw unsatisfiable }
        if last.isEmpty { return start...(size - 1) }
        guard let end = Int(last), end >= start else { throw unsatisfiable }
        return start...min(end, size - 1)
    }

    /// `Content-Range: START-END` (also `bytes START-END/TOTAL`), inclusive, or nil without the header.
    static func contentRange(_ header: String?) throws(RegistryError) -> ClosedRange<Int>? {
        guard var text = header?.trimmingCharacters(in: .whitespaces) else { return nil }
        if text.hasPrefix("bytes ") { text = String(text.dropFirst(6)) }
        if let slash = text.firstIndex(of: "/") { text = String(text[..<slash]) }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        // `end < Int.max`: the announced length `end - start + 1` must be an Int (callers compare it with the body's).
        guard parts.count == 2, let start = Int(parts[0]), let end = Int(parts[1]), start >= 0, end >= start, end < Int.max else {
            throw RegistryError(.blobUploadInvalid, "invalid Content-Range '\(text.prefix(80))': expected START-END", status: .rangeNotSatisfiable)
        }
        return start...end
    }
}
