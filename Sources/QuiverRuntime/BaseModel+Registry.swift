import QuiverModel
import QuiverStore

extension BaseModel {
    /// The base model `base` of a registry — or its only base model when `base` is nil — from its verified blobs.
    ///
    /// - Throws: `QuiverError` `.notFound` for an unknown name or a registry without base model, `.invalidInput`
    ///   when several base models exist and none is named, `.corrupt` for a damaged blob.
    public init(registry: Registry, base: String?) throws {
        let (row, files) = try registry.baseModelFiles(named: base)
        try self.init(name: row.name, files: files, source: "base model '\(row.name)'")
    }
}
