import Foundation
import QuiverTensor

extension Registry {
    /// Imports an AdapterFusion trained elsewhere as `reference`, over member adapters already in
    /// the registry. Members are recorded by manifest digest, so the fusion keeps working when a
    /// member's `latest` tag moves. `metadata` is a JSON object text stored with the version (training
    /// figures, hyper-parameters…).
    @discardableResult
    public func importFusion(
        members memberReferences: [Reference], as reference: Reference, folder path: String,
        description: String? = nil, force: Bool = false, metadata: String? = nil
    ) throws -> PushResult {
        let folder = try FusionFolder(path: path)
        return try locked(.shared) {
            let members = try memberReferences.map { try resolve($0) }
            guard members.count == folder.adapterNames.count else {
                throw QuiverError(.invalidInput, "\(path): the fusion was trained over \(folder.adapterNames.count) adapters (\(folder.adapterNames.joined(separator: ", "))), \(members.count) were given")
            }
            for (member, given) in zip(members, memberReferences) {
                guard member.kind == "adapter", ["seq_bn", "double_seq_bn", "bottleneck"].contains(member.architecture) else {
                    throw QuiverError(.invalidInput, "\(given) is a \(member.kind == "fusion" ? "fusion" : member.architecture + " adapter"); fusion members must be bottleneck adapters")
                }
            }
            guard Set(members.map(\.baseModelId)).count == 1, let base = try catalog.baseModel(id: members[0].baseModelId) else {
                throw QuiverError(.incompatible, "fusion members belong to different base models")
            }
            guard Set(members.map(\.id)).count == members.count else {
                throw QuiverError(.invalidInput, "fusion members must be distinct adapters")
            }
            let locations = try members.map { try adapterLocations(of: $0) }
            try folder.checkCompatibility(with: try config(of: base), baseName: base.name, memberLocations: locations)
            var files: [FileRow] = []
            var staged: [StagedBlob] = []
            for file in folder.files {
                let stage = try prepare(file)
                files.append(FileRow(name: file.name, role: file.role, blobDigest: stage.descriptor.digest.description))
                staged.append(stage)
            }
            let content = ArtifactContent(
                kind: "fusion", architecture: folder.architecture, format: "adapters", base: base,
                parameters: folder.parameters, headParameters: folder.headParameters, labels: folder.head?.labels ?? [],
                description: description ?? "", metadata: metadata, files: files, blobs: staged.map(\.descriptor), members: members)
            return try commit(content, staged: staged, as: reference, force: force)
        }
    }

    /// Where an adapter has bottleneck layers: location → layer indices (as strings).
    func adapterLocations(of artifact: ArtifactRow) throws -> [String: Set<String>] {
        guard let weights = try catalog.artifactFiles(artifact.id!).first(where: { $0.role == "adapterWeights" }) else {
            throw QuiverError(.corrupt, "\(artifact.task):\(artifact.version) has no adapter weights in the catalog")
        }
        let bytes = try blobs.readAll(try descriptor(ofBlob: weights.blobDigest))
        let file = try SafetensorsFile(bytes: bytes, source: "\(artifact.task):\(artifact.version) adapter.safetensors")
        var locations: [String: Set<String>] = [:]
        for tensor in file.header.tensors {
            if case .bottleneck(let layer, let location, _, _) = AdapterTensor.parse(tensor.name) {
                locations[location.rawValue, default: []].insert(String(layer))
            }
        }
        return locations
    }
}
