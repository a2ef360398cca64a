/// A value on the restricted unpickler's stack. Only plain data, the allowed globals (as names, never as code),
/// storages and tensor views exist: there is no way to represent an arbitrary object.
///
/// Lists and dicts are mutable in a pickle (`APPENDS`, `SETITEMS` change one the memo also holds), so they live
/// in the unpickler's tables and a value only holds their index: a list holding itself is then just a number,
/// never a reference cycle. Tuples are immutable and held directly, their nesting bounded.
enum PickleValue {
    case none
    case bool(Bool)
    case integer(Int64)
    /// An integer beyond 64 bits (`LONG1`/`LONG4`), as little-endian two's-complement bytes.
    case largeInteger([UInt8])
    case float(Double)
    case string(String)
    case tuple(PickleTuple)
    /// Index into the unpickler's lists.
    case list(Int)
    /// Index into the unpickler's dicts.
    case dict(Int)
    case global(TorchGlobal)
    /// A storage by key, declared by a persistent id.
    case storage(String)
    case tensor(TorchTensorView)

    /// What the value is, in Python's words, for messages.
    var typeName: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .integer, .largeInteger: "int"
        case .float: "float"
        case .string: "str"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global: "global"
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }

    /// Tuple nesting depth (0 for anything else).
    var depth: Int {
        if case .tuple(let tuple) = self { return tuple.depth }
        return 0
    }
}

/// An immutable tuple and how deeply tuples nest inside it.
struct PickleTuple {
    let items: [PickleValue]
    let depth: Int

    init(_ items: [PickleValue]) {
        self.items = items
        depth = 1 + (items.map(\.depth).max() ?? 0)
    }
}
