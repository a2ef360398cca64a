import Foundation
import QuiverModel
import QuiverStore

/// A trained adapter or fusion as it landed in the registry, with its training record.
public struct TrainingOutcome: Sendable {
    public var push: Registry.PushResult
    public var report: TrainingReport
    public var metadata: TrainingMetadata
}

extension Registry {
    /// Trains a new adapter and head on `data` over a base model of this registry, keeps the best epoch's
    /// weights (by the evaluation data, else the last), and pushes the result as `reference` with its training
    /// record in the metadata. Labels are the training data's, sorted.
    ///
    /// - Throws: `QuiverError` for bad data (naming the file and line), a single-label training set, options or
    ///   sizes out of range, or an explicit version that already exists (unless `force`) — all before training.
    @discardableResult
    public func trainAdapter(
        _ reference: Reference, recipe: AdapterRecipe, data: TrainingDataFiles, base baseName: String? = nil,
        options: TrainingOptions, description: String? = nil, force: Bool = false,
        progress: (TrainingEvent) -> Void = { _ in }
    ) throws -> TrainingOutcome {
        try options.validate()
        try checkFree(reference, force: force)
        let (train, dev) = try loadTrainingData(data)
        let (baseRow, baseFiles) = try baseModelFiles(named: baseName)
        let base = try BaseModel(name: baseRow.name, files: baseFiles, source: "base model '\(baseRow.name)'")
        try recipe.validate(hiddenSize: base.config.hiddenSize, baseName: base.name)
        try Self.checkMaxLength(options.maxLength, base: base)
        let sets = try Self.trainingSets(train: train, dev: dev, base: base, options: options, task: reference.task)
        let model = try TrainableModels.adapter(recipe, base: base, task: reference.task, labels: train.labels, seed: options.seed)
        let report = try Trainer(model: model, options: options).train(sets.train, dev: sets.dev, progress: progress)
        let metadata = TrainingMetadata(
            kind: .adapter, architecture: AdapterKind(rawValue: recipe.architecture.rawValue),
            reductionFactor: recipe.architecture == .lora ? nil : recipe.reductionFactor,
            rank: recipe.architecture == .lora ? recipe.rank : nil, alpha: recipe.architecture == .lora ? recipe.alpha : nil,
            members: nil, unfreezeAdapters: nil, hyperparameters: .init(options),
            base: .init(name: baseRow.name, digest: baseRow.digest), train: .init(train), dev: dev.map { .init($0) },
            labels: train.labels, epochs: report.epochs, bestEpoch: report.bestEpoch, steps: report.steps)
        let adapter = try AdapterFolder(files: .memory(try model.exportFiles(), source: reference.description))
        let push = try self.push(reference, adapter: adapter, baseName: baseRow.name, description: description, force: force, metadata: try metadata.json())
        return TrainingOutcome(push: push, report: report, metadata: metadata)
    }

    /// Trains an AdapterFusion over `members` (bottleneck adapters of one base model, in this order) and a new
    /// head on `data`, the members frozen unless `recipe.unfreezeMembers`, and stores it as `reference` with
    /// its training record. The members are recorded by digest, as the versions trained with.
    @discardableResult
    public func trainFusion(
        members memberReferences: [Reference], as reference: Reference, recipe: FusionRecipe, data: TrainingDataFiles,
        options: TrainingOptions, description: String? = nil, force: Bool = false,
        progress: (TrainingEvent) -> Void = { _ in }
    ) throws -> TrainingOutcome {
        try options.validate()
        guard memberReferences.count >= 2 else {
            throw QuiverError(.invalidInput, "a fusion needs at least two member adapters (got \(memberReferences.count))")
        }
        try checkFree(reference, force: force)
        let artifacts = try memberReferences.map { try resolve($0) }
        for (artifact, given) in zip(artifacts, memberReferences) {
            guard artifact.kind == .adapter, artifact.architecture.isFusable else {
                throw QuiverError(.invalidInput, "\(given) is a \(artifact.kind == .fusion ? "fusion" : "\(artifact.architecture) adapter"); fusion members must be bottleneck adapters")
            }
        }
        guard Set(artifacts.map(\.id)).count == artifacts.count else {
            throw QuiverError(.invalidInput, "fusion members must be distinct adapters")
        }
        let pinned = try artifacts.map { try Reference(task: $0.task, version: $0.version) }
        let (train, dev) = try loadTrainingData(data)
        let (base, tasks) = try loadTasks(pinned)  // refuses members of different base models
        guard let baseRow = try self.baseModel(id: artifacts[0].baseModelId) else {
            throw QuiverError(.corrupt, "\(pinned[0]) names a base model the catalog does not hold")
        }
        try Self.checkMaxLength(options.maxLength, base: base)
        let members = try zip(tasks, pinned).map { task, name -> (String, BottleneckAdapter) in
            guard case .adapter(let adapter as BottleneckAdapter) = task.composition else {
                throw QuiverError(.corrupt, "\(name) is not a bottleneck adapter")
            }
            return (name.task, adapter)
        }
        let sets = try Self.trainingSets(train: train, dev: dev, base: base, options: options, task: reference.task)
        let model = try TrainableModels.fusion(
            recipe, members: members, base: base, task: reference.task, labels: train.labels, seed: options.seed)
        let report = try Trainer(model: model, options: options).train(sets.train, dev: sets.dev, progress: progress)
        var metadata = TrainingMetadata(
            kind: .fusion, architecture: AdapterKind(rawValue: recipe.kind.rawValue), reductionFactor: nil, rank: nil, alpha: nil,
            members: pinned.map { "\($0.task):\($0.version!)" }, unfreezeAdapters: recipe.unfreezeMembers,
            hyperparameters: .init(options), base: .init(name: baseRow.name, digest: baseRow.digest), train: .init(train),
            dev: dev.map { .init($0) }, labels: train.labels, epochs: report.epochs, bestEpoch: report.bestEpoch,
            steps: report.steps)
        let files = try model.exportFiles()
        var fused = pinned
        if recipe.unfreezeMembers {
            // The members trained too: each is stored as a new adapter FUSION-MEMBER, and the fusion is over
            // those, so the adapters it started from stay as they were.
            fused = try pinned.map { member in
                let prefix = "members/\(member.task)/"
                let memberFiles = Dictionary(uniqueKeysWithValues: files.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
                let name = try Reference(parsing: "\(reference.task)-\(member.task)")
                let pushed = try self.push(
                    name, adapter: AdapterFolder(files: .memory(memberFiles, source: name.description)), baseName: baseRow.name,
                    description: "\(member) as trained in fusion \(reference.task)")
                return try Reference(task: pushed.artifact.task, version: pushed.artifact.version)
            }
            metadata.members = fused.map { "\($0.task):\($0.version!)" }
        }
        let fusionFiles = files.filter { !$0.key.hasPrefix("members/") }
        let fusion = try FusionFolder(files: .memory(fusionFiles, source: reference.description))
        let push = try importFusion(members: fused, as: reference, fusion: fusion, description: description, force: force, metadata: try metadata.json())
        return TrainingOutcome(push: push, report: report, metadata: metadata)
    }

    // MARK: - Steps

    /// Refuses, before any training, an explicit version that exists already (unless `force`).
    func checkFree(_ reference: Reference, force: Bool) throws {
        guard !force, reference.version != nil, try self.artifact(reference) != nil else { return }
        throw QuiverError(.conflict, "\(reference) already exists; train another version or use --force")
    }

    /// The training and evaluation data, checked to make a classification task.
    func loadTrainingData(_ files: TrainingDataFiles) throws -> (train: Dataset, dev: Dataset?) {
        let train = try Dataset.load(path: files.train)
        guard train.labels.count >= 2 else {
            throw QuiverError(.invalidInput, "\(files.train): every example has the label \"\(train.labels[0])\"; a classifier needs at least two labels")
        }
        return (train, try files.dev.map { try Dataset.load(path: $0) })
    }

    static func checkMaxLength(_ maxLength: Int, base: BaseModel) throws {
        guard maxLength <= base.maxLength else {
            throw QuiverError(.invalidInput, "max length \(maxLength) is over the \(base.maxLength) tokens of base model '\(base.name)'")
        }
    }

    /// The data tokenized for the base model, the evaluation data's labels checked against the training data's
    /// (an unknown one names its line) — before any model is built.
    static func trainingSets(
        train: Dataset, dev: Dataset?, base: BaseModel, options: TrainingOptions, task: String
    ) throws -> (train: TrainingSet, dev: TrainingSet?) {
        let trainSet = try TrainingSet(dataset: train, labels: train.labels, tokenizer: base.tokenizer, maxLength: options.maxLength, task: task)
        let devSet = try dev.map {
            try TrainingSet(dataset: $0, labels: train.labels, tokenizer: base.tokenizer, maxLength: options.maxLength, task: task)
        }
        return (trainSet, devSet)
    }
}

extension TrainingMetadata.DataFile {
    init(_ dataset: Dataset) {
        file = URL(fileURLWithPath: dataset.source).lastPathComponent
        digest = dataset.digest.description
        examples = dataset.count
    }
}
