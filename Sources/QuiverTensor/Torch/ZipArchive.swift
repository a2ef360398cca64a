/// The strict, minimal zip reader `torch.save` archives need: one disk, entries STORED (torch never
/// compresses), zip64 end records and sizes (torch always writes the zip64 end record), data descriptors.
///
/// Refused by name: compressed or encrypted entries, several disks, overlapping entries, duplicate names,
/// names that are absolute, hold `..`, `.`, empty components, backslashes or NUL, and entries outside the one
/// root folder torch puts everything in (`archive/` or the file's stem).
/// Each entry's CRC-32 is checked when it is read.
struct ZipArchive {
    struct Entry {
        /// The name below the root folder (`data.pkl`, `data/0`).
        var name: String
        /// Where the entry's bytes lie in the file.
        var data: Range<Int>
        var crc32: UInt32
    }

    /// The root folder every entry lives in.
    let root: String
    /// Entries by their name below the root.
    let entries: [String: Entry]

    // MARK: - Record signatures and limits

    private enum Signature {
        static let localHeader: UInt32 = 0x0403_4B50
        static let centralHeader: UInt32 = 0x0201_4B50
        static let endOfCentralDirectory: UInt32 = 0x0605_4B50
        static let zip64EndOfCentralDirectory: UInt32 = 0x0606_4B50
        static let zip64Locator: UInt32 = 0x0706_4B50
    }

    private static let endRecordSize = 22
    private static let centralHeaderSize = 46
    private static let localHeaderSize = 30
    private static let zip64LocatorSize = 20
    private static let zip64ExtraField: UInt16 = 0x0001

    /// True when `bytes` start like a zip archive (a local file header).
    static func looksLikeZip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var cursor = ByteCursor(bytes)
        return cursor.uint32() == Signature.localHeader
    }

    // MARK: - Reading

    init(_ file: UnsafeRawBufferPointer) throws(TorchCheckpointError) {
        let directory = try Self.centralDirectory(file)
        var cursor = ByteCursor(UnsafeRawBufferPointer(rebasing: file[directory.range]))
        var entries: [String: Entry] = [:]
        var spans: [(range: Range<Int>, name: String)] = []
        var root: String?
        for _ in 0..<directory.count {
            let (fullName, entry, localHeader) = try Self.centralEntry(&cursor, file: file, directoryStart: directory.range.lowerBound)
            guard let slash = fullName.firstIndex(of: "/"), slash != fullName.startIndex else {
                throw Self.malformed("entry '\(printable(fullName))' is not inside a root folder")
            }
            let prefix = String(fullName[..<slash])
            if root == nil { root = prefix }
            guard prefix == root else {
                throw Self.malformed("entry '\(printable(fullName))' is outside the archive's root folder '\(printable(root!))'")
            }
            let name = String(fullName[fullName.index(after: slash)...])
            guard entries[name] == nil else {
                throw Self.malformed("entry '\(printable(fullName))' appears twice")
            }
            entries[name] = Entry(name: name, data: entry.data, crc32: entry.crc32)
            spans.append((localHeader.lowerBound..<entry.data.upperBound, fullName))
        }
        guard let root else { throw Self.malformed("the archive has no entries") }
        spans.sort { $0.range.lowerBound < $1.range.lowerBound }
        for (left, right) in zip(spans, spans.dropFirst()) where left.range.upperBound > right.range.lowerBound {
            throw Self.malformed("entries '\(printable(left.name))' and '\(printable(right.name))' overlap")
        }
        self.root = root
        self.entries = entries
    }

    /// The bytes of the entry `name` (below the root), CRC-checked; nil when there is no such entry.
    func bytes(of name: String, in file: UnsafeRawBufferPointer) throws(TorchCheckpointError) -> UnsafeRawBufferPointer? {
        guard let entry = entries[name] else { return nil }
        let bytes = UnsafeRawBufferPointer(rebasing: file[entry.data])
        guard CRC32.checksum(bytes) == entry.crc32 else {
            throw Self.malformed("entry '\(printable(root))/\(printable(name))' fails its CRC-32 check (damaged file)")
        }
        return bytes
    }

    // MARK: - End records

    /// Finds the central directory from the end record (and the zip64 end record when there is one).
    private static func centralDirectory(_ file: UnsafeRawBufferPointer) throws(TorchCheckpointError) -> (range: Range<Int>, count: Int) {
        let end = try endRecordOffset(file)
        var cursor = ByteCursor(file, at: end + 4)
        let disk = cursor.uint16()!, directoryDisk = cursor.uint16()!
        let diskEntries = cursor.uint16()!, totalEntries = cursor.uint16()!
        let size32 = cursor.uint32()!, offset32 = cursor.uint32()!
        guard disk == 0, directoryDisk == 0, diskEntries == totalEntries else {
            throw unsupported("archives split over several disks are not supported")
        }
        var count = UInt64(totalEntries), size = UInt64(size32), offset = UInt64(offset32)
        var directoryLimit = end
        let locator = end - zip64LocatorSize
        var probe = ByteCursor(file, at: max(0, locator))
        if locator >= 0, probe.uint32() == Signature.zip64Locator {
            var cursor = ByteCursor(file, at: locator + 4)
            let recordDisk = cursor.uint32()!, recordOffset = cursor.uint64()!, disks = cursor.uint32()!
            guard recordDisk == 0, disks <= 1 else { throw unsupported("archives split over several disks are not supported") }
            guard recordOffset <= UInt64(locator), Int(recordOffset) + 56 <= locator else {
                throw malformed("zip64 end record offset \(recordOffset) is outside the file")
            }
            var record = ByteCursor(file, at: Int(recordOffset))
            guard record.uint32() == Signature.zip64EndOfCentralDirectory else {
                throw malformed("no zip64 end record at offset \(recordOffset)")
            }
            let recordSize = record.uint64()!
            guard recordSize >= 44, recordSize <= UInt64(locator) - recordOffset - 12 else {
                throw malformed("zip64 end record size \(recordSize) runs past the zip64 locator")
            }
            _ = record.skip(4)  // versions
            let disk64 = record.uint32()!, directoryDisk64 = record.uint32()!
            let diskEntries64 = record.uint64()!, count64 = record.uint64()!
            let size64 = record.uint64()!, offset64 = record.uint64()!
            guard disk64 == 0, directoryDisk64 == 0, diskEntries64 == count64 else {
                throw unsupported("archives split over several disks are not supported")
            }
            // The classic record must agree, or be saturated (0xFFFF…) to say "see the zip64 record".
            guard totalEntries == 0xFFFF || UInt64(totalEntries) == count64,
                  size32 == 0xFFFF_FFFF || UInt64(size32) == size64,
                  offset32 == 0xFFFF_FFFF || UInt64(offset32) == offset64
            else { throw malformed("the zip64 end record disagrees with the end record") }
            count = count64
            size = size64
            offset = offset64
            directoryLimit = Int(recordOffset)
        }
        guard offset <= UInt64(directoryLimit), size <= UInt64(directoryLimit) - offset else {
            throw malformed("central directory (offset \(offset), \(size) bytes) runs past the end records")
        }
        // Each central header takes at least 46 bytes: the count is bounded by the directory's size.
        guard count <= size / UInt64(centralHeaderSize) else {
            throw malformed("\(count) entries cannot fit in a \(size)-byte central directory")
        }
        return (Int(offset)..<Int(offset + size), Int(count))
    }

    /// The offset of the end-of-central-directory record: the last one whose comment ends the file.
    private static func endRecordOffset(_ file: UnsafeRawBufferPointer) throws(TorchCheckpointError) -> Int {
        guard file.count >= endRecordSize else {
            throw malformed("no end-of-central-directory record (truncated file?)")
        }
        let earliest = max(0, file.count - endRecordSize - 0xFFFF)
        var offset = file.count - endRecordSize
        while offset >= earliest {
            var cursor = ByteCursor(file, at: offset)
            if cursor.uint32() == Signature.endOfCentralDirectory {
                _ = cursor.skip(16)
                if Int(cursor.uint16()!) == file.count - offset - endRecordSize { return offset }
            }
            offset -= 1
        }
        throw malformed("no end-of-central-directory record (truncated file?)")
    }

    // MARK: - Entries

    /// Reads one central directory header and checks its local header; returns the full name, the entry and
    /// the local header's range.
    private static func centralEntry(
        _ cursor: inout ByteCursor, file: UnsafeRawBufferPointer, directoryStart: Int
    ) throws(TorchCheckpointError) -> (String, Entry, Range<Int>) {
        guard cursor.uint32() == Signature.centralHeader, cursor.remaining >= centralHeaderSize - 4 else {
            throw malformed("central directory header \(cursor.position) is damaged")
        }
        _ = cursor.skip(4)  // versions
        let flags = cursor.uint16()!, method = cursor.uint16()!
        _ = cursor.skip(4)  // time, date
        let crc = cursor.uint32()!, compressed32 = cursor.uint32()!, size32 = cursor.uint32()!
        let nameLength = Int(cursor.uint16()!), extraLength = Int(cursor.uint16()!), commentLength = Int(cursor.uint16()!)
        let startDisk = cursor.uint16()!
        _ = cursor.skip(6)  // attributes
        let localOffset32 = cursor.uint32()!
        guard let nameBytes = cursor.take(nameLength), let extra = cursor.take(extraLength), cursor.skip(commentLength) else {
            throw malformed("central directory ends inside an entry")
        }
        guard let name = String(validating: nameBytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw malformed("an entry's name is not UTF-8")
        }
        try checkName(name)
        guard flags & 0x41 == 0 else { throw unsupported("entry '\(printable(name))' is encrypted") }
        guard method == 0 else {
            throw unsupported("entry '\(printable(name))' is compressed (method \(method)); torch.save stores entries uncompressed")
        }
        var compressed = UInt64(compressed32), size = UInt64(size32), localOffset = UInt64(localOffset32)
        var disk = UInt32(startDisk)
        if compressed32 == 0xFFFF_FFFF || size32 == 0xFFFF_FFFF || localOffset32 == 0xFFFF_FFFF || startDisk == 0xFFFF {
            var zip64 = try zip64Extra(extra, entry: name)
            // Present in this order, each only when its classic field is saturated.
            let short = malformed("entry '\(printable(name))': zip64 extra field is too short")
            if size32 == 0xFFFF_FFFF { guard let value = zip64.uint64() else { throw short }; size = value }
            if compressed32 == 0xFFFF_FFFF { guard let value = zip64.uint64() else { throw short }; compressed = value }
            if localOffset32 == 0xFFFF_FFFF { guard let value = zip64.uint64() else { throw short }; localOffset = value }
            if startDisk == 0xFFFF { guard let value = zip64.uint32() else { throw short }; disk = value }
        }
        guard disk == 0 else { throw unsupported("entry '\(printable(name))' is on disk \(disk): archives split over several disks are not supported") }
        guard compressed == size else {
            throw malformed("entry '\(printable(name))' is stored but its sizes differ (\(compressed) and \(size))")
        }
        guard localOffset <= UInt64(directoryStart) else {
            throw malformed("entry '\(printable(name))' starts at \(localOffset), past the central directory")
        }
        let start = Int(localOffset)
        var local = ByteCursor(UnsafeRawBufferPointer(rebasing: file[..<directoryStart]), at: start)
        guard local.uint32() == Signature.localHeader, local.skip(4), let localMethod = local.uint16(), local.skip(16),
              let localNameLength = local.uint16(), let localExtraLength = local.uint16(),
              let localName = local.take(Int(localNameLength)), local.skip(Int(localExtraLength))
        else { throw malformed("entry '\(printable(name))': no local header at offset \(start)") }
        guard localMethod == method, localName.elementsEqual(nameBytes) else {
            throw malformed("entry '\(printable(name))': its local header disagrees with the central directory")
        }
        guard size <= UInt64(local.remaining) else {
            throw malformed("entry '\(printable(name))' (\(size) bytes) runs past the central directory (truncated file?)")
        }
        let data = local.position..<(local.position + Int(size))
        return (name, Entry(name: name, data: data, crc32: crc), start..<data.upperBound)
    }

    /// The zip64 extended-information field of an entry's extra data, as a cursor over its values.
    private static func zip64Extra(_ extra: UnsafeRawBufferPointer, entry: String) throws(TorchCheckpointError) -> ByteCursor {
        var cursor = ByteCursor(extra)
        while cursor.remaining >= 4 {
            let id = cursor.uint16()!, length = Int(cursor.uint16()!)
            guard let body = cursor.take(length) else { break }
            if id == zip64ExtraField { return ByteCursor(body) }
        }
        throw malformed("entry '\(printable(entry))' needs a zip64 extra field and has none")
    }

    /// Names must stay inside the archive: relative, no `.`/`..`/empty components, no backslash or NUL.
    private static func checkName(_ name: String) throws(TorchCheckpointError) {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, !name.contains("\\"), !name.contains("\0"),
              components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
        else { throw malformed("entry name '\(printable(name))' escapes the archive or is not a plain path") }
    }

    private static func malformed(_ message: String) -> TorchCheckpointError {
        TorchCheckpointError(.malformedArchive, message)
    }

    private static func unsupported(_ message: String) -> TorchCheckpointError {
        TorchCheckpointError(.unsupported, message)
    }
}
