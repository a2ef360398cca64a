import QuiverModel
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
        try importFusion(members: memberReferences, as: reference, fusion: FusionFolder(path: path), description: description, force: force, metadata: metadata)
    }

    /// Imports a fusion already read (from a folder, or from a training run's files in memory).
    @discardableResult
    public func importFusion(
        members memberReferences: [Reference], as reference: Reference, fusion folder: FusionFolder,
        description: String? = nil, force: Bool = false, metadata: String? = nil
    ) throws -> PushResult {
        try locked(.shared) {
            let members = try memberReferences.map { try resolve($0) }
            let facts = try members.map { member -> FusionMember in
                let isBottleneck = member.kind == .adapter && member.architecture.isFusable
                return FusionMember(
                    name: "\(member.task):\(member.version)", kind: member.kind, architecture: member.architecture, baseDigest: String(member.baseModelId),
                    locations: isBottleneck ? try adapterLocations(of: member) : [:])
            }
            try Self.checkMembers(facts, of: folder, baseDigest: nil)
            guard let base = try catalog.baseModel(id: members[0].baseModelId) else {
                throw QuiverError(.corrupt, "\(memberReferences[0]) names a base model the catalog does not hold")
            }
            try folder.checkCompatibility(with: try shapes(of: base), baseName: base.name, memberLocations: facts.map(\.locations))
            var files: [FileRow] = []
            var staged: [StagedBlob] = []
            for file in folder.files {
                let stage = try prepare(file)
                files.append(FileRow(name: file.name, role: file.role, blobDigest: stage.descriptor.digest.description))
                staged.append(stage)
            }
            let content = ArtifactContent(
                kind: .fusion, architecture: folder.architecture, format: .adapters, base: base,
                parameters: folder.parameters, headParameters: folder.headParameters, labels: folder.head?.labels ?? [],
                description: description ?? "", metadata: metadata, files: files, blobs: staged.map(\.descriptor), members: members,
                engineNote: base.engineNote)
            return try commit(content, staged: staged, as: reference, force: force)
        }
    }

    /// The architectures whose outputs a fusion can attend over.

    /// A fusion's members must be as many as it was trained over, distinct bottleneck adapters of
    /// one base model (`baseDigest`, when known).
    static func checkMembers(_ members: [FusionMember], of folder: FusionFolder, baseDigest: String?) throws {
        guard members.count == folder.adapterNames.count else {
            throw QuiverError(
                .invalidInput,
                "\(folder.source)/adapter_fusion_config.json: the fusion was trained over \(folder.adapterNames.count) adapters (\(folder.adapterNames.joined(separator: ", "))), \(members.count) were given")
        }
        for member in members where member.kind != .adapter || !member.architecture.isFusable {
            throw QuiverError(.invalidInput, "\(member.name) is a \(member.kind == .fusion ? "fusion" : "\(member.architecture) adapter"); fusion members must be bottleneck adapters")
        }
        guard Set(members.map(\.baseDigest)).count == 1, baseDigest.map({ $0 == members[0].baseDigest }) ?? true else {
            throw QuiverError(.incompatible, "fusion members belong to different base models")
        }
        guard Set(members.map(\.name)).count == members.count else {
            throw QuiverError(.invalidInput, "fusion members must be distinct adapters")
        }
    }

    /// Where an adapter has bottleneck layers: location → layer indices (as strings).
    func adapterLocations(of artifact: ArtifactRow) throws -> [String: Set<String>] {
        guard let weights = try catalog.artifactFiles(artifact.id!).first(where: { $0.role == .adapterWeights }) else {
            throw QuiverError(.corrupt, "\(artifact.task):\(artifact.version) has no adapter weights in the catalog")
        }
        let bytes = try blobs.readAll(try descriptor(ofBlob: weights.blobDigest))
        return Self.adapterLocations(try SafetensorsFile(bytes: bytes, source: "\(artifact.task):\(artifact.version) adapter.safetensors"))
    }

    static func adapterLocations(_ file: SafetensorsFile) -> [String: Set<String>] {
        var locations: [String: Set<String>] = [:]
        for tensor in file.header.tensors {
            if case .bottleneck(let layer, let location, _, _) = AdapterTensor.parse(tensor.name) {
                locations[location.rawValue, default: []].insert(String(layer))
            }
        }
        return locations
    }
}
