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
        guard task.wholeMatch(of: /[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*/) != nil else {
            let hint: String
            if task.contains("/") { hint = "'/' is not allowed" }
            else if task.contains("..") { hint = "'..' is not allowed" }
            else if task.contains(where: \.isWhitespace) { hint = "spaces are not allowed" }
            else if task.contains(where: \.isUppercase) { hint = "use lower case" }
            else { hint = "use lower-case letters and digits separated by '.', '_' or '-'" }
            throw QuiverError(.invalidName, "invalid task name '\(task)': \(hint)")
        }
    }

    /// A version is an OCI tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`; `latest` is reserved for the tag.
    public static func validateVersion(_ version: String, allowLatest: Bool = false) throws {
        guard version.wholeMatch(of: /[A-Za-z0-9_][A-Za-z0-9._-]{0,127}/) != nil else {
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
