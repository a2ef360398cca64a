import Foundation
import QuiverModel
import QuiverStore
import QuiverTensor

extension Registry {
    /// Loads an adapter or fusion version (with a fusion's members, by digest) for `base`.
    public func loadTask(_ reference: Reference, base: BaseModel) throws -> TaskModel {
        let artifact = try resolve(reference)
        return try loadTask(artifact, base: base)
    }

    func loadTask(_ artifact: ArtifactRow, base: BaseModel) throws -> TaskModel {
        let name = "\(artifact.task):\(artifact.version)"
        if let note = artifact.engineNote { throw QuiverError(.unsupported, "\(name): \(note)") }
        let files = try files(of: artifact)
        guard artifact.kind == .fusion else {
            return try TaskModel.adapter(name: name, files: files, source: name, base: base.config, pooler: base.encoder.weights.pooler)
        }
        let members = try self.members(ofFusion: artifact.id!).map { member -> BottleneckAdapter in
            guard case .adapter(let adapter as BottleneckAdapter) = try loadTask(member, base: base).composition else {
                throw QuiverError(.corrupt, "\(name): member \(member.task):\(member.version) is not a bottleneck adapter")
            }
            return adapter
        }
        return try TaskModel.fusion(name: name, files: files, members: members, source: name, base: base.config)
    }
}

extension Registry {
    /// The base model the tasks were trained on and the tasks themselves, ready to run together.
    ///
    /// - Throws: `QuiverError(.incompatible)` when the tasks belong to different base models.
    public func loadTasks(_ references: [Reference]) throws -> (base: BaseModel, tasks: [TaskModel]) {
        let artifacts = try references.map { try resolve($0) }
        guard let first = artifacts.first else { throw QuiverError(.invalidInput, "no task given") }
        for artifact in artifacts {
            if let note = artifact.engineNote { throw QuiverError(.unsupported, "\(artifact.task):\(artifact.version): \(note)") }
        }
        guard let baseRow = try self.baseModel(id: first.baseModelId) else {
            throw QuiverError(.corrupt, "\(first.task):\(first.version) names a base model the catalog does not hold")
        }
        for artifact in artifacts where artifact.baseModelId != first.baseModelId {
            let other = try self.baseModel(id: artifact.baseModelId)?.name ?? "?"
            throw QuiverError(.incompatible, "\(artifact.task):\(artifact.version) belongs to base model '\(other)', \(first.task):\(first.version) to '\(baseRow.name)'; tasks run together must share one base")
        }
        let base = try BaseModel(registry: self, base: baseRow.name)
        return (base, try artifacts.map { try loadTask($0, base: base) })
    }
}
