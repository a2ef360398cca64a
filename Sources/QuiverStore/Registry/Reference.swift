import QuiverModel

/// `TASK[:VERSION]`: a task name (one OCI repository path component) and an optional version
/// (an OCI tag). Without a version it means the `latest` tag.
public struct Reference: Sendable, Equatable, CustomStringConvertible {
    public static let latest = "latest"
    public static let maximumTaskLength = 128

    public var task: String
    /// nil means `latest`.
    public var version: String?

    public init(task: String, version: String? = nil) throws {
        try Self.validateTask(task)
        if let version { try Self.validateVersion(version, allowLatest: true) }
        self.task = task
        self.version = version == Self.latest ? nil : version
    }

    /// Parses `TASK[:VERSION]`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, parts[1].isEmpty {
            throw QuiverError(.invalidName, "invalid reference '\(text)': empty version after ':'")
        }
        try self.init(task: String(parts[0]), version: parts.count == 2 ? String(parts[1]) : nil)
    }

    public var description: String { "\(task):\(version ?? Self.latest)" }

    // MARK: - Grammar

    /// A task name is one path component of an OCI repository name: lower-case letters and digits,
    /// separated by single `.`, `_`, `__` or runs of `-`.
    public static func validateTask(_ task: String) throws {
        guard !task.isEmpty else { throw QuiverError(.invalidName, "invalid task name: empty") }
        guard task.utf8.count <= maximumTaskLength else {
            throw QuiverError(.invalidName, "invalid task name '\(task.prefix(40))…': longer than \(maximumTaskLength) characters")
        }
        guard isPathComponent(task[...]) else {
            let hint: String
            if task.contains("/") { hint = "'/' is not allowed" }
            else if task.contains("..") { hint = "'..' is not allowed" }
            else if task.contains(where: \.isWhitespace) { hint = "spaces are not allowed" }
            else if task.contains(where: \.isUppercase) { hint = "use lower case" }
            else { hint = "use lower-case letters and digits separated by '.', '_' or '-'" }
            throw QuiverError(.invalidName, "invalid task name '\(task)': \(hint)")
        }
    }

    /// One path component of an OCI repository name, `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`: the task
    /// grammar, and the grammar of every component of a remote's namespace. Scanned by hand rather
    /// than with a regex: `quiver serve` checks every request path with it.
    public static func isPathComponent(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        func isAlphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        var index = 0
        while index < bytes.count {
            if isAlphanumeric(bytes[index]) {
                index += 1
                continue
            }
            var end = index
            while end < bytes.count, !isAlphanumeric(bytes[end]) { end += 1 }
            let separator = bytes[index..<end]
            let dot = UInt8(ascii: "."), underscore = UInt8(ascii: "_"), dash = UInt8(ascii: "-")
            guard separator.elementsEqual([dot]) || separator.elementsEqual([underscore]) || separator.elementsEqual([underscore, underscore])
                || separator.allSatisfy({ $0 == dash })
            else { return false }
            index = end
        }
        return true
    }

    /// The first component of `namespace` (`team/nlp`: one or more path components separated by
    /// `/`, at most 128 bytes) that breaks the grammar, or nil when it is valid. An empty namespace,
    /// or an empty component (`a//b`, `a/`), is returned as such.
    public static func invalidNamespaceComponent(_ namespace: String) -> Substring? {
        if namespace.isEmpty || namespace.utf8.count > 128 { return namespace[...] }
        return namespace.split(separator: "/", omittingEmptySubsequences: false).first { !isPathComponent($0) }
    }

    /// A version is an OCI tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`; `latest` is reserved for the tag.
    public static func validateVersion(_ version: String, allowLatest: Bool = false) throws {
        let bytes = version.utf8
        func isTagByte(_ byte: UInt8, first: Bool) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): true
            case UInt8(ascii: "."), UInt8(ascii: "-"): !first
            default: false
            }
        }
        guard (1...128).contains(bytes.count), bytes.enumerated().allSatisfy({ isTagByte($1, first: $0 == 0) }) else {
            throw QuiverError(.invalidName, "invalid version '\(version)': use up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
        }
        if !allowLatest, version == latest {
            throw QuiverError(.invalidName, "invalid version 'latest': it is the tag that follows the newest version")
        }
    }

    /// Base model names follow the task grammar.
    public static func validateBaseName(_ name: String) throws {
        do {
            try validateTask(name)
        } catch let error as QuiverError {
            throw QuiverError(.invalidName, error.message.replacingOccurrences(of: "task name", with: "base model name"))
        }
    }

    /// A name derived from a folder name: lower-cased, other characters turned into '-'.
    public static func sanitizedName(_ text: String) -> String {
        var result = ""
        for character in text.lowercased() {
            if character.isASCII, character.isLetter || character.isNumber {
                result.append(character)
            } else if !result.isEmpty, result.last != "-" {
                result.append("-")
            }
        }
        while result.last == "-" { result.removeLast() }
        return result.isEmpty ? "base" : String(result.prefix(maximumTaskLength))
    }
}
