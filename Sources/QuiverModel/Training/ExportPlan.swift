import QuiverTensor

/// The files a trained model is saved as: configuration files as bytes, and safetensors files whose tensors are
/// read from the parameters (or frozen buffers) at export time.
struct ExportPlan: Sendable {
    struct Tensor: @unchecked Sendable {
        let names: [String]
        let shape: [Int]
        let values: FloatBuffer
    }

    struct TensorFile: Sendable {
        var tensors: [Tensor] = []
        var metadata: [String: String]?
    }

    var configs: [String: [UInt8]] = [:]
    var tensorFiles: [String: TensorFile] = [:]

    mutating func add(_ parameter: Parameter, to file: String) {
        tensorFiles[file, default: TensorFile()].tensors.append(
            Tensor(names: [parameter.name] + parameter.aliases, shape: parameter.shape, values: parameter.value))
    }

    mutating func add(frozen values: FloatBuffer, name: String, shape: [Int], to file: String) {
        tensorFiles[file, default: TensorFile()].tensors.append(Tensor(names: [name], shape: shape, values: values))
    }

    /// Every file's bytes, with the tensors' current values.
    func files() -> [String: [UInt8]] {
        var files = configs
        for (name, file) in tensorFiles {
            var tensors: [String: TensorData] = [:]
            for tensor in file.tensors {
                let data = TensorData(shape: tensor.shape, floats: tensor.values.array)
                for name in tensor.names { tensors[name] = data }
            }
            files[name] = Safetensors.serialize(tensors, metadata: file.metadata)
        }
        return files
    }
}
