import QuiverModel

extension Registry {
    /// A base model's files, verified, by file name (`config.json`, `model.safetensors`, `vocab.txt`,
    /// `tokenizer.json`…): the folder `quiver base add` imported, held in memory.
    ///
    /// - Parameter name: the base model's name; nil picks the only base model of the registry.
    /// - Throws: `QuiverError` `.notFound` for an unknown name or an empty registry, `.invalidInput` when the
    ///   registry holds several base models and no name is given, `.corrupt` for a damaged blob.
    public func baseModelFiles(named name: String?) throws -> (base: BaseModelRow, files: [String: [UInt8]]) {
        try locked(.shared) {
            let base = try resolveBase(named: name)
            var files: [String: [UInt8]] = [:]
            for file in try catalog.baseModelFiles(base.id!) {
                files[file.name] = try blobs.readAll(try descriptor(ofBlob: file.blobDigest))
            }
            return (base, files)
        }
    }
}
