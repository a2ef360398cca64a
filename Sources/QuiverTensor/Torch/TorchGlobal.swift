/// The only globals a pickled state dict may name (torch's `serialization.py` and `_utils.py`): the tensor and
/// parameter rebuild functions, the storage classes, the dtypes `_rebuild_tensor_v3` takes, and
/// `collections.OrderedDict`. The unpickler never looks anything up or calls anything: each case is interpreted
/// by the unpickler itself, and any other name (`os.system`, `builtins.eval`, `torch.load`…) is refused as soon
/// as the pickle names it.
enum TorchGlobal: Equatable {
    /// `collections.OrderedDict`: a state dict, `_metadata`, an empty `backward_hooks`.
    case orderedDict
    /// `torch._utils._rebuild_tensor(storage, offset, size, stride)`: what torch 0.4.0 wrote.
    case rebuildTensor
    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    case rebuildTensorV2
    /// `torch._utils._rebuild_tensor_v3(storage, offset, size, stride, requires_grad, backward_hooks, dtype[, metadata])`:
    /// what torch writes for the dtypes without a typed storage class (float8, uint16/32/64).
    case rebuildTensorV3
    /// `torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)`: an `nn.Parameter`.
    case rebuildParameter
    /// `torch._utils._rebuild_parameter_with_state(data, requires_grad, backward_hooks, state)`.
    case rebuildParameterWithState
    /// `torch.FloatStorage`, the other typed storages and `torch.storage.UntypedStorage`: named in a storage's
    /// persistent id.
    case storage(TorchStorageType)
    /// `torch.float32`, `torch.float8_e4m3fn`…: the dtype argument of `_rebuild_tensor_v3`.
    case dtype(DType)

    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_tensor_v3"): self = .rebuildTensorV3
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch.storage", "UntypedStorage"): self = .storage(.untyped)
        case ("torch", _):
            if let type = TorchStorageType(rawValue: name), type != .untyped {
                self = .storage(type)
            } else if let dtype = Self.dtypes[name] {
                self = .dtype(dtype)
            } else {
                return nil
            }
        default: return nil
        }
    }

    /// torch's dtype names (`torch.<name>`) for the dtypes safetensors has.
    private static let dtypes: [String: DType] = [
        "float32": .f32, "float16": .f16, "bfloat16": .bf16, "float64": .f64,
        "int64": .i64, "int32": .i32, "int16": .i16, "int8": .i8, "uint8": .u8, "bool": .bool,
        "uint16": .u16, "uint32": .u32, "uint64": .u64,
        "float8_e4m3fn": .f8e4m3, "float8_e5m2": .f8e5m2, "float8_e8m0fnu": .f8e8m0,
    ]
}

/// torch's storage classes, by class name, and the dtype of their elements.
enum TorchStorageType: String, CaseIterable, Sendable {
    case float = "FloatStorage"
    case half = "HalfStorage"
    case bfloat16 = "BFloat16Storage"
    case double = "DoubleStorage"
    case long = "LongStorage"
    case int = "IntStorage"
    case short = "ShortStorage"
    case char = "CharStorage"
    case byte = "ByteStorage"
    case bool = "BoolStorage"
    /// `torch.storage.UntypedStorage`: bytes, whose element count is a byte count; the tensor's dtype comes
    /// from `_rebuild_tensor_v3`.
    case untyped = "UntypedStorage"

    var dtype: DType {
        switch self {
        case .float: .f32
        case .half: .f16
        case .bfloat16: .bf16
        case .double: .f64
        case .long: .i64
        case .int: .i32
        case .short: .i16
        case .char: .i8
        case .byte, .untyped: .u8
        case .bool: .bool
        }
    }

    /// Bytes per element.
    var elementSize: Int { dtype.bitWidth / 8 }
}
