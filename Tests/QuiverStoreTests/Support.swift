import Foundation
import QuiverTensor
@testable import QuiverStore
import QuiverModel

/// A fresh registry and a folder of sample models in a temporary directory, removed at the end.
///
/// Writing the samples and compressing the base model is done once per test process, into a
/// template that each workspace copies.
final class Workspace {
    let root: String
    let registry: Registry
    let samples: String

    /// A template with samples and a registry holding the sample base model.
    private static let template: String = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-template-\(UUID().uuidString)").path
        try! SampleFolders.write(to: root + "/samples", seed: 7)
        try! Registry(home: root + "/registry").addBase(folder: root + "/samples/tiny-bert")
        try! FileManager.default.copyItem(atPath: root + "/registry", toPath: root + "/registry-with-base")
        try! FileManager.default.removeItem(atPath: root + "/registry")
        return root
    }()

    private init(base: Bool) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.template + "/samples", toPath: root + "/samples")
        if base {
            try FileManager.default.copyItem(atPath: Self.template + "/registry-with-base", toPath: root + "/registry")
        }
        registry = try Registry(home: root + "/registry")
        samples = root + "/samples"
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func sample(_ name: String) -> String { samples + "/" + name }

    /// An empty registry and the sample folders.
    static func empty() throws -> Workspace { try Workspace(base: false) }

    /// A registry with the sample base model added.
    static func withBase() throws -> Workspace { try Workspace(base: true) }

    /// Copies a sample folder so a test can damage it.
    func copy(_ name: String, to newName: String) throws -> String {
        let destination = root + "/" + newName
        try FileManager.default.copyItem(atPath: sample(name), toPath: destination)
        return destination
    }

    /// Everything observable about the registry's content: blob files, catalog rows, temporary files.
    struct Snapshot: Equatable {
        var blobFiles: Set<String>
        var artifacts: [String]
        var bases: [String]
        var temporaryFiles: [String]
    }

    func snapshot() throws -> Snapshot {
        Snapshot(
            blobFiles: Set(try FileManager.default.contentsOfDirectory(atPath: registry.blobs.blobsDirectory)),
            artifacts: try registry.list().map { "\($0.task):\($0.version):\($0.digest):\($0.tags)" },
            bases: try registry.baseModels().map { "\($0.name):\($0.manifestDigest)" },
            temporaryFiles: try FileManager.default.contentsOfDirectory(atPath: registry.blobs.temporaryDirectory))
    }
}

func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

func write(_ bytes: [UInt8], to path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

/// Replaces a JSON file's top-level value at `key` (or `config.key` with a dotted path).
func editJSON(_ path: String, _ edit: (inout [String: Any]) -> Void) throws {
    var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    edit(&object)
    try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
}
