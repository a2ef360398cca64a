/// A pickle reader for state dicts that never executes code: a small stack machine over the binary opcodes of
/// protocols 2–5 (`PickleOpcode`) that knows only the globals in `TorchGlobal` and interprets their `REDUCE`
/// itself — `OrderedDict()` makes an empty dict, `_rebuild_tensor[_v2|_v3](...)` a `TorchTensorView`, the
/// parameter rebuilds return their tensor, `BUILD` of an OrderedDict's attributes (`_metadata`) is read and
/// dropped. Any other global is refused where the pickle names it, before anything else happens. Storages come
/// from persistent ids `('storage', type, key, location, numel)` (numel counts bytes for `UntypedStorage`) and
/// are only declared here; the checkpoint binds them to bytes.
///
/// Everything is bounded before it is allocated: strings are checked against the bytes that remain, at most
/// `maximumValues` values are made (each opcode makes at most one), the memo and the open MARKs are bounded
/// the same way, and tuples nest at most `maximumTupleDepth` deep.
struct RestrictedUnpickler {
    /// A storage as a persistent id declares it.
    struct StorageDeclaration: Equatable {
        var type: TorchStorageType
        var elementCount: Int
    }

    static let maximumTupleDepth = 32
    static let maximumProtocol: UInt8 = 5
    /// Values made by one pickle (pushed on the stack), and separately memo entries and open MARKs. A state dict
    /// needs about 25 values per tensor: this allows some 160,000 tensors and keeps a hostile pickle's memory
    /// to a few hundred MiB.
    static let maximumValues = 1 << 22

    private var cursor: ByteCursor
    /// Names the pickle in messages (`data.pkl`, `the legacy pickle`).
    private let label: String
    /// Where the opcode being run starts, for messages.
    private var opcodeStart = 0
    private var stack: [PickleValue] = []
    /// Stack heights at each open MARK.
    private var marks: [Int] = []
    private var memo: [UInt32: PickleValue] = [:]
    /// At most this many values, memo entries and open MARKs (`maximumValues` unless a test says otherwise).
    private let valueLimit: Int
    /// Values made so far.
    private var valuesMade = 0
    private(set) var lists: [[PickleValue]] = []
    private(set) var dicts: [[(key: PickleValue, value: PickleValue)]] = []
    /// Storages by key, as the persistent ids declared them.
    private(set) var storages: [String: StorageDeclaration] = [:]

    /// An unpickler for the pickle starting at `position` of `bytes`.
    init(_ bytes: UnsafeRawBufferPointer, at position: Int = 0, label: String, valueLimit: Int = maximumValues) {
        cursor = ByteCursor(bytes, at: position)
        self.label = label
        self.valueLimit = valueLimit
    }

    /// Where the pickle ended (just past its STOP) once `load` returned.
    var position: Int { cursor.position }

    // MARK: - Running

    /// Runs the pickle up to its STOP and returns the one value it leaves.
    mutating func load() throws(TorchCheckpointError) -> PickleValue {
        while true {
            opcodeStart = cursor.position
            guard let byte = cursor.uint8() else { throw malformed("ends without STOP (truncated?)") }
            guard let opcode = PickleOpcode(rawValue: byte) else {
                throw malformed("unknown opcode 0x\(String(byte, radix: 16))")
            }
            if let refusal = opcode.refusal {
                throw TorchCheckpointError(.refusedOpcode, at("opcode \(opcode.name) is not read: \(refusal)"))
            }
            if opcode == .stop {
                let value = try pop()
                guard stack.isEmpty, marks.isEmpty else { throw malformed("STOP leaves values or marks on the stack") }
                return value
            }
            try run(opcode)
        }
    }

    private mutating func run(_ opcode: PickleOpcode) throws(TorchCheckpointError) {
        switch opcode {
        case .proto:
            let version = try read(1)[0]
            guard version <= Self.maximumProtocol else {
                throw TorchCheckpointError(.unsupported, at("pickle protocol \(version) is not read (at most \(Self.maximumProtocol))"))
            }
        case .frame:
            _ = try length(8)  // frames only announce the size of what follows
        case .mark:
            guard marks.count < valueLimit else { throw limit("more than \(valueLimit) open MARKs") }
            marks.append(stack.count)
        case .pop:
            if stack.count > floor { stack.removeLast() } else { _ = try popToMark() }
        case .popMark: _ = try popToMark()
        case .dup: try push(try top())
        case .none: try push(.none)
        case .newTrue: try push(.bool(true))
        case .newFalse: try push(.bool(false))
        case .binInt: try push(.integer(Int64(Int32(bitPattern: UInt32(try unsigned(4))))))
        case .binInt1: try push(.integer(Int64(try unsigned(1))))
        case .binInt2: try push(.integer(Int64(try unsigned(2))))
        case .long1: try push(Self.integer(try read(try length(1))))
        case .long4: try push(Self.integer(try read(try signedLength(4))))
        case .binFloat: try push(.float(Double(bitPattern: UInt64(bigEndian: try read(8).loadUnaligned(as: UInt64.self)))))
        case .shortBinUnicode: try push(.string(try utf8(try read(try length(1)))))
        case .binUnicode: try push(.string(try utf8(try read(try length(4)))))
        case .binUnicode8: try push(.string(try utf8(try read(try length(8)))))
        case .emptyTuple: try push(.tuple(PickleTuple([])))
        case .tuple: try push(try tuple(try popToMark()))
        case .tuple1, .tuple2, .tuple3:
            let count = Int(opcode.rawValue - PickleOpcode.tuple1.rawValue) + 1
            guard stack.count - floor >= count else { throw malformed("\(opcode.name) needs \(count) values") }
            let items = Array(stack.suffix(count))
            stack.removeLast(count)
            try push(try tuple(items))
        case .emptyList: try push(newList([]))
        case .list: try push(newList(try popToMark()))
        case .append:
            let item = try pop()
            lists[try topList()].append(item)
        case .appends:
            let items = try popToMark()
            lists[try topList()].append(contentsOf: items)
        case .emptyDict: try push(newDict([]))
        case .dict: try push(newDict(try pairs(try popToMark())))
        case .setItem:
            let value = try pop(), key = try pop()
            dicts[try topDict()].append((key, value))
        case .setItems:
            let items = try pairs(try popToMark())
            dicts[try topDict()].append(contentsOf: items)
        case .binGet, .longBinGet:
            let index = UInt32(try unsigned(opcode == .binGet ? 1 : 4))
            guard let value = memo[index] else { throw malformed("\(opcode.name) \(index) of an empty memo slot") }
            try push(value)
        case .binPut, .longBinPut:
            try memoize(at: UInt32(try unsigned(opcode == .binPut ? 1 : 4)))
        case .memoize:
            try memoize(at: UInt32(memo.count))
        case .global:
            let module = try line(), name = try line()
            try push(.global(try global(module: module, name: name)))
        case .stackGlobal:
            guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                throw malformed("STACK_GLOBAL needs two strings")
            }
            try push(.global(try global(module: module, name: name)))
        case .reduce:
            let arguments = try pop(), callable = try pop()
            guard case .global(let function) = callable, case .tuple(let tuple) = arguments else {
                throw malformed("REDUCE needs a global and a tuple, not \(callable.typeName) and \(arguments.typeName)")
            }
            try push(try reduce(function, tuple.items))
        case .build:
            // Only an OrderedDict's attributes are set this way: a state dict's `_metadata` (module versions),
            // which says nothing about the tensors and is not kept.
            let state = try pop()
            guard case .dict = try top(), case .dict = state else {
                throw malformed("BUILD of a \(state.typeName) on a \(try top().typeName) (only an OrderedDict's attributes are read)")
            }
        case .binPersID:
            try push(try persistentLoad(try pop()))
        default:
            throw malformed("opcode \(opcode.name) is not handled")  // unreachable: `refusal` covers the others
        }
    }

    // MARK: - What the allowed globals do

    private func global(module: String, name: String) throws(TorchCheckpointError) -> TorchGlobal {
        guard let global = TorchGlobal(module: module, name: name) else {
            throw TorchCheckpointError(
                .refusedGlobal,
                at("refuses global \(printable(module)).\(printable(name)): a state dict needs only torch's tensor rebuild "
                    + "functions, storage types and dtypes, and collections.OrderedDict; nothing is run"))
        }
        return global
    }

    /// `REDUCE` of an allowed global, interpreted here; nothing is called.
    private mutating func reduce(_ function: TorchGlobal, _ arguments: [PickleValue]) throws(TorchCheckpointError) -> PickleValue {
        switch function {
        case .orderedDict:
            guard arguments.isEmpty else { throw malformed("OrderedDict with arguments") }
            return newDict([])
        case .rebuildTensor, .rebuildTensorV2, .rebuildTensorV3:
            return .tensor(try rebuildTensor(function, arguments))
        case .rebuildParameter, .rebuildParameterWithState:
            let count = function == .rebuildParameter ? 3 : 4
            guard arguments.count == count, case .tensor = arguments[0], case .bool = arguments[1], case .dict = arguments[2] else {
                throw malformed("parameter rebuild needs (tensor, requires_grad, backward_hooks\(count == 4 ? ", state" : ""))")
            }
            return arguments[0]  // the state of `_rebuild_parameter_with_state` (Python attributes) is not kept
        case .storage(let type):
            throw malformed("\(type.rawValue) is called (storages come only from persistent ids)")
        case .dtype(let dtype):
            throw malformed("the dtype \(dtype.rawValue) is called (dtypes are only arguments of _rebuild_tensor_v3)")
        }
    }

    /// The tensor rebuilds, by the arguments torch writes:
    /// - `_rebuild_tensor(storage, storage_offset, size, stride)`
    /// - `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`
    /// - `_rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype[, metadata])`
    ///
    /// The dtype is the storage's, or v3's argument (the storage is then bytes); the offset counts elements of it.
    private func rebuildTensor(_ function: TorchGlobal, _ arguments: [PickleValue]) throws(TorchCheckpointError) -> TorchTensorView {
        let (name, counts): (String, ClosedRange<Int>) = switch function {
        case .rebuildTensor: ("_rebuild_tensor(storage, offset, size, stride)", 4...4)
        case .rebuildTensorV3: ("_rebuild_tensor_v3(storage, offset, size, stride, requires_grad, backward_hooks, dtype[, metadata])", 7...8)
        default: ("_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata])", 6...7)
        }
        guard counts.contains(arguments.count), case .storage(let key) = arguments[0], case .integer(let offset) = arguments[1],
              case .tuple(let size) = arguments[2], case .tuple(let stride) = arguments[3]
        else { throw malformed("expected \(name)") }
        var dtype = storages[key]!.type.dtype  // a `.storage` value exists only once its key is declared
        if function != .rebuildTensor {
            guard case .bool = arguments[4], case .dict = arguments[5] else { throw malformed("expected \(name)") }
        }
        if function == .rebuildTensorV3 {
            guard case .global(.dtype(let given)) = arguments[6] else { throw malformed("expected \(name)") }
            dtype = given
        }
        // v2's and v3's optional last argument says whether a conjugate or negative bit is set: never for a
        // state dict's weights.
        if function != .rebuildTensor, arguments.count == counts.upperBound {
            switch arguments[arguments.count - 1] {
            case .none: break
            case .dict(let index) where dicts[index].isEmpty: break
            default: throw TorchCheckpointError(.unsupported, at("tensor metadata (such as a negative or conjugate bit) is not read"))
            }
        }
        guard let shape = Self.integers(size), let strides = Self.integers(stride) else {
            throw malformed("\(name): sizes and strides must be tuples of integers")
        }
        // Numbers are checked with the tensor's name once the state dict is known (`checkedByteCount`).
        return TorchTensorView(storage: key, dtype: dtype, offset: Int(offset), shape: shape, strides: strides)
    }

    /// `persistent_load(('storage', storage_type, key, location, numel))`; the legacy format adds a sixth item,
    /// a view of another storage, which torch stopped writing long ago and is refused unless None.
    private mutating func persistentLoad(_ id: PickleValue) throws(TorchCheckpointError) -> PickleValue {
        guard case .tuple(let tuple) = id, (5...6).contains(tuple.items.count), case .string("storage") = tuple.items[0],
              case .global(.storage(let type)) = tuple.items[1], case .string(let key) = tuple.items[2],
              case .string = tuple.items[3], case .integer(let count) = tuple.items[4], count >= 0
        else { throw malformed("persistent id is not ('storage', storage type, key, location, element count)") }
        if tuple.items.count == 6 {
            guard case .none = tuple.items[5] else {
                throw TorchCheckpointError(.unsupported, at("storage views (legacy view metadata) are not read"))
            }
        }
        // torch's keys are decimal numbers; anything else could not name a plain archive entry.
        let isKeyByte = { (byte: UInt8) in
            byte == UInt8(ascii: "_") || (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
        }
        guard (1...64).contains(key.utf8.count), key.utf8.allSatisfy(isKeyByte) else {
            throw TorchCheckpointError(.invalidStorage, at("storage key '\(printable(key))' is not 1–64 letters, digits or _"))
        }
        let declaration = StorageDeclaration(type: type, elementCount: Int(count))
        if let earlier = storages[key], earlier != declaration {
            throw TorchCheckpointError(
                .invalidStorage,
                at("storage '\(key)' is declared as \(earlier.elementCount) \(earlier.type.rawValue) and as \(count) \(type.rawValue)"))
        }
        storages[key] = declaration
        return .storage(key)
    }

    // MARK: - Results

    /// The state dict `value` must be: a dict (or OrderedDict) of distinct string names to tensors, in order.
    func stateDict(_ value: PickleValue) throws(TorchCheckpointError) -> [(name: String, view: TorchTensorView)] {
        guard case .dict(let index) = value else {
            throw TorchCheckpointError(.notAStateDict, "\(label) holds a \(value.typeName), not a state dict (names mapped to tensors)")
        }
        var seen = Set<String>()
        var tensors: [(name: String, view: TorchTensorView)] = []
        for (key, item) in dicts[index] {
            guard case .string(let name) = key else {
                throw TorchCheckpointError(.notAStateDict, "\(label): a state dict key is a \(key.typeName), not a string")
            }
            guard case .tensor(let view) = item else {
                throw TorchCheckpointError(
                    .notAStateDict, "\(label): '\(printable(name))' is a \(item.typeName), not a tensor (a state dict maps names to tensors)")
            }
            // Swift compares strings by canonical equivalence, as safetensors names are compared.
            guard seen.insert(name).inserted else {
                throw TorchCheckpointError(.notAStateDict, "\(label): tensor '\(printable(name))' appears twice (or differs only in Unicode normalisation)")
            }
            guard name != "__metadata__" else {
                throw TorchCheckpointError(.notAStateDict, "\(label): a tensor named '__metadata__' cannot be stored as safetensors")
            }
            tensors.append((name, view))
        }
        return tensors
    }

    /// The items of a list of strings (the legacy format's storage keys).
    func strings(_ value: PickleValue) -> [String]? {
        guard case .list(let index) = value else { return nil }
        var strings: [String] = []
        for item in lists[index] {
            guard case .string(let string) = item else { return nil }
            strings.append(string)
        }
        return strings
    }

    /// The value of a string key in a dict (the legacy format's `sys_info`).
    func item(_ key: String, of value: PickleValue) -> PickleValue? {
        guard case .dict(let index) = value else { return nil }
        return dicts[index].last { if case .string(key) = $0.key { true } else { false } }?.value
    }

    // MARK: - Stack

    /// The height below which the innermost MARK protects the stack.
    private var floor: Int { marks.last ?? 0 }

    private mutating func push(_ value: PickleValue) throws(TorchCheckpointError) {
        guard valuesMade < valueLimit else { throw limit("makes more than \(valueLimit) values") }
        valuesMade += 1
        stack.append(value)
    }

    private mutating func memoize(at index: UInt32) throws(TorchCheckpointError) {
        let value = try top()
        guard memo.count < valueLimit || memo[index] != nil else {
            throw limit("memoizes more than \(valueLimit) values")
        }
        memo[index] = value
    }

    private mutating func pop() throws(TorchCheckpointError) -> PickleValue {
        guard stack.count > floor else { throw malformed("stack underflow") }
        return stack.removeLast()
    }

    private func top() throws(TorchCheckpointError) -> PickleValue {
        guard stack.count > floor else { throw malformed("stack underflow") }
        return stack[stack.count - 1]
    }

    private mutating func popToMark() throws(TorchCheckpointError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw malformed("no MARK to pop to") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private func topList() throws(TorchCheckpointError) -> Int {
        guard case .list(let index) = try top() else { throw malformed("appending to a \(try top().typeName), not a list") }
        return index
    }

    private func topDict() throws(TorchCheckpointError) -> Int {
        guard case .dict(let index) = try top() else { throw malformed("setting an item of a \(try top().typeName), not a dict") }
        return index
    }

    private mutating func newList(_ items: [PickleValue]) -> PickleValue {
        lists.append(items)
        return .list(lists.count - 1)
    }

    private mutating func newDict(_ items: [(key: PickleValue, value: PickleValue)]) -> PickleValue {
        dicts.append(items)
        return .dict(dicts.count - 1)
    }

    private func tuple(_ items: [PickleValue]) throws(TorchCheckpointError) -> PickleValue {
        let tuple = PickleTuple(items)
        guard tuple.depth <= Self.maximumTupleDepth else { throw malformed("tuples nest deeper than \(Self.maximumTupleDepth)") }
        return .tuple(tuple)
    }

    private func pairs(_ items: [PickleValue]) throws(TorchCheckpointError) -> [(key: PickleValue, value: PickleValue)] {
        guard items.count % 2 == 0 else { throw malformed("an odd number of items for a dict") }
        return stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
    }

    // MARK: - Arguments

    private mutating func read(_ count: Int) throws(TorchCheckpointError) -> UnsafeRawBufferPointer {
        guard let bytes = cursor.take(count) else { throw malformed("ends inside an opcode's argument (truncated?)") }
        return bytes
    }

    /// An unsigned little-endian integer of `width` bytes (1, 2, 4 or 8).
    private mutating func unsigned(_ width: Int) throws(TorchCheckpointError) -> UInt64 {
        try read(width).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A length of `width` bytes that must fit in what remains of the pickle.
    private mutating func length(_ width: Int) throws(TorchCheckpointError) -> Int {
        let value = try unsigned(width)
        guard value <= UInt64(cursor.remaining) else { throw malformed("a length of \(value) runs past the end") }
        return Int(value)
    }

    /// `LONG4`'s signed 4-byte length.
    private mutating func signedLength(_ width: Int) throws(TorchCheckpointError) -> Int {
        let value = Int32(bitPattern: UInt32(try unsigned(width)))
        guard value >= 0, Int(value) <= cursor.remaining else { throw malformed("a length of \(value) runs past the end") }
        return Int(value)
    }

    /// A `GLOBAL` argument: text up to a newline.
    private mutating func line() throws(TorchCheckpointError) -> String {
        let rest = UnsafeRawBufferPointer(rebasing: cursor.bytes[cursor.position...])
        guard let newline = rest.firstIndex(of: UInt8(ascii: "\n")) else { throw malformed("GLOBAL without a newline") }
        let text = try utf8(try read(newline))
        _ = try read(1)
        return text
    }

    private func utf8(_ bytes: UnsafeRawBufferPointer) throws(TorchCheckpointError) -> String {
        guard let text = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw malformed("a string is not UTF-8")
        }
        return text
    }

    /// `LONG1`/`LONG4` bytes: little-endian two's complement.
    private static func integer(_ bytes: UnsafeRawBufferPointer) -> PickleValue {
        guard bytes.count <= 8 else { return .largeInteger(Array(bytes)) }
        guard let last = bytes.last else { return .integer(0) }
        var value: UInt64 = last & 0x80 != 0 ? ~0 : 0  // sign extension
        for byte in bytes.reversed() { value = value << 8 | UInt64(byte) }
        return .integer(Int64(bitPattern: value))
    }

    private static func integers(_ tuple: PickleTuple) -> [Int]? {
        var values: [Int] = []
        for item in tuple.items {
            guard case .integer(let value) = item else { return nil }
            values.append(Int(value))
        }
        return values
    }

    // MARK: - Errors

    /// The message, then where in which pickle: `… (data.pkl, byte 31)`.
    private func at(_ message: String) -> String { "\(message) (\(label), byte \(opcodeStart))" }

    private func malformed(_ message: String) -> TorchCheckpointError {
        TorchCheckpointError(.malformedPickle, at(message))
    }

    private func limit(_ message: String) -> TorchCheckpointError {
        TorchCheckpointError(.limitExceeded, at(message))
    }
}
