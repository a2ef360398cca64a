import Foundation
import QuiverHub
import QuiverStore
import QuiverModel
import Testing

/// Sample folders, and registries made from them once per test process and copied by each test:
/// `source` holds the base model `tiny-bert`, adapters `sentiment` and `topic`, and the fusion
/// `review` over both; `with-base` holds only the base model.
enum Samples {
    static let template: String = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-hub-template-\(UUID().uuidString)").path
        try! SampleFolders.write(to: root + "/samples", seed: 7)
        let registry = try! Registry(home: root + "/with-base")
        try! registry.addBase(folder: root + "/samples/tiny-bert")
        try! FileManager.default.copyItem(atPath: root + "/with-base", toPath: root + "/source")
        let source = try! Registry(home: root + "/source")
        try! source.push(Reference(parsing: "sentiment"), folder: root + "/samples/sentiment")
        try! source.push(Reference(parsing: "topic"), folder: root + "/samples/topic")
        try! source.importFusion(
            members: [Reference(parsing: "sentiment"), Reference(parsing: "topic")], as: Reference(parsing: "review"),
            folder: root + "/samples/review-fusion")
        return root
    }()

    static func folder(_ name: String) -> String { template + "/samples/" + name }
}

/// A temporary folder for one test, removed at the end.
final class Workspace: Sendable {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-hub-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// A copy of the sample source registry.
    func source(_ name: String = "source") throws -> Registry { try copy("source", as: name) }

    /// A copy of the registry holding only the base model.
    func withBase(_ name: String) throws -> Registry { try copy("with-base", as: name) }

    /// A new, empty registry.
    func empty(_ name: String) throws -> Registry { try Registry(home: root + "/" + name) }

    private func copy(_ template: String, as name: String) throws -> Registry {
        try FileManager.default.copyItem(atPath: Samples.template + "/" + template, toPath: root + "/" + name)
        return try Registry(home: root + "/" + name)
    }
}

/// Everything observable about a registry's content.
struct Snapshot: Equatable {
    var blobFiles: Set<String>
    var artifacts: [String]
    var bases: [String]
    var temporaryFiles: [String]

    init(_ registry: Registry) throws {
        blobFiles = Set(try FileManager.default.contentsOfDirectory(atPath: registry.blobs.blobsDirectory))
        artifacts = try registry.list().map { "\($0.task):\($0.version):\($0.digest):\($0.tags)" }
        bases = try registry.baseModels().map { "\($0.name):\($0.manifestDigest)" }
        temporaryFiles = (try FileManager.default.subpathsOfDirectory(atPath: registry.blobs.temporaryDirectory)).sorted()
    }
}

func readFile(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

/// Small transfers so that the sample base model's weights go through the chunked upload path.
let chunkedOptions = TransferOptions(monolithicLimit: 64 << 10, chunkSize: 48 << 10)
