/// Why a PyTorch checkpoint (`.bin`, `.pt`) was refused. The description is one line naming the file and the
/// fault: a hostile or damaged file is an error like this, never a trap or a huge allocation.
public struct TorchCheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened or mapped.
        case io
        /// Neither a zip archive written by `torch.save` nor torch's legacy pickle stream.
        case notACheckpoint
        /// A malformed zip archive: truncated, overlapping entries, names escaping the archive…
        case malformedArchive
        /// Something the reader does not implement: compressed entries, big-endian data, torch's tar format,
        /// tensor metadata, legacy storage views…
        case unsupported
        /// A malformed pickle: truncated, an unknown opcode, a stack underflow, a wrong argument type.
        case malformedPickle
        /// A pickle opcode that would construct an object or read outside data (`NEWOBJ`, `INST`, `EXT1`…).
        case refusedOpcode
        /// A global other than the few a state dict needs (`os.system`, `builtins.eval`…).
        case refusedGlobal
        /// A storage missing from the file, of the wrong size, or declared twice with different types.
        case invalidStorage
        /// A tensor whose offset, sizes or strides overflow or reach outside its storage.
        case invalidTensor
        /// The pickle is not a state dict (names mapped to tensors).
        case notAStateDict
        /// The converted tensors would exceed the bound derived from the file's size, or the pickle makes more
        /// values, memo entries or MARKs than the unpickler allows.
        case limitExceeded
    }

    public var kind: Kind
    public var message: String
    /// The file (or other source) the fault was found in.
    public var source: String

    public init(_ kind: Kind, _ message: String, source: String = "") {
        self.kind = kind
        self.message = message
        self.source = source
    }

    public var description: String { source.isEmpty ? message : "\(source): \(message)" }

    func from(_ source: String) -> TorchCheckpointError {
        var copy = self
        copy.source = source
        return copy
    }
}

/// Text from a file, made safe for a one-line message: control characters and line separators escaped, at most `limit` characters.
func printable(_ text: String, limit: Int = 80) -> String {
    var result = ""
    for scalar in text.unicodeScalars.prefix(limit) {
        if scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029 {
            result += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            result.unicodeScalars.append(scalar)
        }
    }
    return text.unicodeScalars.count > limit ? result + "…" : result
}
