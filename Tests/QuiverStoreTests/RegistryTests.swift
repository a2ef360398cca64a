import Foundation
import Testing
import QuiverTensor
@testable import QuiverStore
import QuiverModel
import QuiverTestServers

@Suite struct RegistryRoundTripTests {
    @Test(arguments: ["sentiment", "topic", "language-id", "entailment", "paraphrase-peft"])
    func pushedFolderPullsBackBitIdentical(_ name: String) throws {
        let workspace = try Workspace.withBase()
        let pushed = try workspace.registry.push(Reference(parsing: name), folder: workspace.sample(name))
        #expect(pushed.outcome == .stored)
        #expect(pushed.artifact.version == "1")
        let output = workspace.root + "/out"
        let result = try workspace.registry.export(Reference(parsing: name), to: output)
        let original = try FileManager.default.contentsOfDirectory(atPath: workspace.sample(name)).sorted()
        #expect(result.files.sorted() == (original + [AdapterFolder.exportFileName]).sorted())
        for file in original {
            #expect(try read(output + "/" + file) == read(workspace.sample(name) + "/" + file), "\(file) differs")
        }
        // A Quiver export pushes back as the same content.
        let again = try workspace.registry.push(Reference(parsing: name), folder: output)
        #expect(again.outcome == .unchanged)
    }

    @Test func parameterCountsComeFromTheTensors() throws {
        let workspace = try Workspace.withBase()
        let c = SampleFolders.config
        let h = c.hiddenSize
        func push(_ name: String) throws -> ArtifactRow { try workspace.registry.push(Reference(parsing: name), folder: workspace.sample(name)).artifact }
        func head(_ labels: Int) -> Int { h * h + h + labels * h + labels }

        let sentiment = try push("sentiment")  // seq_bn, reduction 16, output adapter only
        let b = h / 16
        #expect(sentiment.parameters == c.layerCount * (b * h + b + h * b + h))
        #expect(sentiment.headParameters == head(2))

        let topic = try push("topic")  // double_seq_bn, reduction 8: two adapters per layer
        let b8 = h / 8
        #expect(topic.parameters == 2 * c.layerCount * (b8 * h + b8 + h * b8 + h))
        #expect(topic.headParameters == head(4))

        let entailment = try push("entailment")  // LoRA r=8 on query and value
        #expect(entailment.parameters == c.layerCount * 2 * (8 * h + h * 8))
        #expect(entailment.headParameters == head(3))

        let peft = try push("paraphrase-peft")
        #expect(peft.parameters == c.layerCount * 2 * (4 * h + h * 4))
        #expect(peft.headParameters == 0)

        let listed = try workspace.registry.list()
        #expect(listed.map(\.task) == ["entailment", "paraphrase-peft", "sentiment", "topic"])
        #expect(listed.first { $0.task == "topic" }?.parameters == topic.parameters)
        #expect(listed.first { $0.task == "topic" }?.labels == ["world", "sports", "business", "science"])
        #expect(listed.allSatisfy { $0.base == "tiny-bert" && $0.kind == .adapter })
    }

    @Test func baseModelIsImportedWithItsFiles() throws {
        let workspace = try Workspace.withBase()
        let base = try #require(try workspace.registry.baseModels().first)
        #expect(base.name == "tiny-bert")
        #expect(base.layerCount == SampleFolders.config.layerCount)
        let config = try workspace.registry.config(of: base)
        #expect(config.hiddenSize == SampleFolders.config.hiddenSize)
        let files = try workspace.registry.catalog.baseModelFiles(base.id!).map(\.name)
        #expect(files == ["config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"])
        // Adding the same folder again changes nothing.
        let before = try workspace.snapshot()
        #expect(try workspace.registry.addBase(folder: workspace.sample("tiny-bert")).added == false)
        #expect(try workspace.snapshot() == before)
    }
}

@Suite struct RegistryStorageTests {
    @Test func sameContentIsStoredOnce() throws {
        let workspace = try Workspace.withBase()
        try workspace.registry.push(Reference(parsing: "sentiment"), folder: workspace.sample("sentiment"))
        let before = try workspace.snapshot()
        #expect(try workspace.registry.push(Reference(parsing: "sentiment"), folder: workspace.sample("sentiment")).outcome == .unchanged)
        #expect(try workspace.registry.push(Reference(parsing: "sentiment:1"), folder: workspace.sample("sentiment")).outcome == .unchanged)
        #expect(try workspace.snapshot() == before)
        // Under another name only the new config and manifest blobs are added: the files are shared.
        try workspace.registry.push(Reference(parsing: "sentiment-copy"), folder: workspace.sample("sentiment"))
        #expect(try workspace.snapshot().blobFiles.count == before.blobFiles.count + 2)
    }

    @Test func float32AdapterWeightsCompressBelowTheBound() throws {
        let workspace = try Workspace.withBase()
        let artifact = try workspace.registry.push(Reference(parsing: "topic"), folder: workspace.sample("topic")).artifact
        for file in try workspace.registry.catalog.artifactFiles(artifact.id!) where file.name.hasSuffix(".safetensors") {
            let blob = try workspace.registry.descriptor(ofBlob: file.blobDigest)
            let ratio = Double(blob.size) / Double(blob.contentSize)
            #expect(blob.encoding == .planes)
            #expect(ratio <= 0.86, "\(file.name): stored/raw = \(ratio)")
        }
    }

    @Test func flippedByteMakesVerifyNameTheBlobAndItsAdapter() throws {
        let workspace = try Workspace.withBase()
        let artifact = try workspace.registry.push(Reference(parsing: "sentiment"), folder: workspace.sample("sentiment")).artifact
        #expect(try workspace.registry.verify().isIntact)
        let weights = try #require(try workspace.registry.catalog.artifactFiles(artifact.id!).first { $0.name == "adapter.safetensors" })
        let path = workspace.registry.blobs.path(of: try Digest(parsing: weights.blobDigest))
        var bytes = try read(path)
        bytes[bytes.count / 2] ^= 0x01
        try write(bytes, to: path)
        let report = try workspace.registry.verify()
        #expect(report.damaged.map(\.digest) == [weights.blobDigest])
        #expect(report.damaged.first?.users == ["sentiment:1"])
        // Reading the damaged adapter fails too, and nothing is written out.
        let output = workspace.root + "/out"
        #expect(throws: QuiverError.self) { try workspace.registry.export(Reference(parsing: "sentiment"), to: output) }
        #expect(!FileManager.default.fileExists(atPath: output + "/adapter.safetensors"))
    }

    @Test func removeMovesLatestAndFreesBlobs() throws {
        let workspace = try Workspace.withBase()
        let empty = try workspace.snapshot()
        try workspace.registry.push(Reference(parsing: "sentiment"), folder: workspace.sample("sentiment"))
        let second = try workspace.registry.push(Reference(parsing: "sentiment"), folder: workspace.sample("topic"))
        #expect(second.artifact.version == "2")
        #expect(try workspace.registry.resolve(Reference(parsing: "sentiment")).version == "2")
        try workspace.registry.remove(Reference(parsing: "sentiment"))
        #expect(try workspace.registry.resolve(Reference(parsing: "sentiment")).version == "1")
        try workspace.registry.remove(Reference(parsing: "sentiment:1"))
        #expect(try workspace.snapshot() == empty)
        #expect(throws: QuiverError(.notFound, "no adapter or fusion named 'sentiment' in the registry")) {
            try workspace.registry.remove(Reference(parsing: "sentiment"))
        }
    }

    @Test func garbageCollectionRemovesOrphansAndLeftovers() throws {
        let workspace = try Workspace.withBase()
        try workspace.registry.push(Reference(parsing: "sentiment"), folder: workspace.sample("sentiment"))
        let before = try workspace.snapshot()
        // A blob written by an interrupted push and a half-written temporary file.
        let orphan = try workspace.registry.blobs.write(Array("orphan".utf8))
        try orphan.commit()
        try write([1, 2, 3], to: workspace.registry.blobs.temporaryDirectory + "/123-456.part")
        try FileManager.default.createDirectory(atPath: workspace.registry.blobs.temporaryDirectory + "/import-123-789/x", withIntermediateDirectories: true)
        let report = try workspace.registry.collectGarbage()
        #expect(report.blobsRemoved == 1)
        #expect(report.temporaryFilesRemoved == 2)
        #expect(FileManager.default.fileExists(atPath: workspace.registry.blobs.temporaryDirectory + "/import-123-789") == false)
        #expect(try workspace.snapshot() == before)
        #expect(try workspace.registry.verify().isIntact)
    }

    /// A killed command leaves its temporary entries behind, unlocked; the next command to open the
    /// registry removes them, leaving what live owners hold locked and unfinished downloads (kept for
    /// the next pull to resume, until `gc`).
    @Test func abandonedTemporaryEntriesGoWhenTheRegistryIsNextOpened() throws {
        let workspace = try Workspace.withBase()
        let tmp = workspace.registry.blobs.temporaryDirectory
        let liveFile = try TemporaryFile(in: tmp)
        let liveFolder = try TemporaryFolder(in: tmp, prefix: "pull")
        let download = "download-\(String(repeating: "ab", count: 32)).part"
        for name in ["17.part", "123-17.part", "download-\(String(repeating: "ab", count: 32)).part.9", download] {
            try write([1], to: tmp + "/" + name)
        }
        try FileManager.default.createDirectory(atPath: tmp + "/import-18/inner", withIntermediateDirectories: true)
        let live = [(liveFile.path as NSString).lastPathComponent, (liveFolder.path as NSString).lastPathComponent]
        _ = try Registry(home: workspace.registry.home)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: tmp)) == Set(live + [download]))
        #expect(try workspace.registry.collectGarbage().temporaryFilesRemoved == 1)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: tmp)) == Set(live))
        liveFile.discard()
        liveFolder.remove()
    }

    /// An entry removed by a collector between its creation and its lock is noticed by its owner.
    @Test func anEntryRemovedBeforeItsLockIsNotClaimed() throws {
        let workspace = try Workspace.withBase()
        let path = workspace.registry.blobs.temporaryDirectory + "/race.part"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        defer { close(descriptor) }
        #expect(TemporaryOwnership.removeIfAbandoned(path))
        #expect(!TemporaryOwnership.claim(descriptor))
    }

    @Test func versionsAreNumberedAndExplicitVersionsKept() throws {
        let workspace = try Workspace.withBase()
        let registry = workspace.registry
        #expect(try registry.push(Reference(parsing: "t:v1.0"), folder: workspace.sample("sentiment")).artifact.version == "v1.0")
        #expect(try registry.push(Reference(parsing: "t"), folder: workspace.sample("topic")).artifact.version == "1")
        #expect(try registry.push(Reference(parsing: "t"), folder: workspace.sample("entailment")).artifact.version == "2")
        #expect(try registry.resolve(Reference(parsing: "t:latest")).version == "2")
        #expect(try registry.resolve(Reference(parsing: "t:v1.0")).architecture == .seqBn)
    }

    @Test func forcedPushReplacesAVersion() throws {
        let workspace = try Workspace.withBase()
        try workspace.registry.push(Reference(parsing: "t:1"), folder: workspace.sample("sentiment"))
        let replaced = try workspace.registry.push(Reference(parsing: "t:1"), folder: workspace.sample("topic"), force: true)
        #expect(replaced.outcome == .replaced)
        #expect(try workspace.registry.resolve(Reference(parsing: "t:1")).architecture == .doubleSeqBn)
        #expect(try workspace.registry.list().count == 1)
    }
}

@Suite struct RegistryLockTests {
    /// A push in progress holds the registry lock shared; gc must wait for it rather than delete
    /// the blobs it is writing.
    @Test func garbageCollectionWaitsForPushesInProgress() async throws {
        let workspace = try Workspace.withBase()
        // A blob committed by a push that has not catalogued it yet.
        let pushing = try RegistryLock(path: workspace.registry.lockPath, mode: .shared)
        let inFlight = try workspace.registry.blobs.write(Array("being pushed".utf8))
        try inFlight.commit()
        let registry = workspace.registry
        let collector = Task { try await onThreadOfItsOwn { try registry.collectGarbage() } }
        try await Task.sleep(for: .milliseconds(300))
        #expect(workspace.registry.blobs.contains(inFlight.descriptor.digest), "gc ran while a push held the lock")
        withExtendedLifetime(pushing) {}
        _ = consume pushing
        let report = try await collector.value
        #expect(report.blobsRemoved == 1)  // once the push is gone, its uncatalogued blob is garbage
    }
}
