import ArgumentParser
import QuiverModel
import QuiverStore

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove one version (TASK alone removes the version `latest` points at).")

    @Argument(help: ArgumentHelp("Task name and optional version.", valueName: "TASK[:VERSION]")) var reference: String
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let removed = try registry.open().remove(try Reference(parsing: reference))
        print("removed \(removed.task):\(removed.version)")
    }
}

struct CollectGarbageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Delete blobs nothing references and leftovers of interrupted commands.")

    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let report = try registry.open().collectGarbage()
        print("removed \(report.blobsRemoved) blobs (\(Console.size(report.bytesFreed))) and \(report.temporaryFilesRemoved) temporary files")
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Recompute the digest of every blob; name damaged blobs and what they break.")

    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let report = try registry.open().verify()
        for damage in report.damaged {
            let users = damage.users.isEmpty ? "unreferenced" : "breaks \(damage.users.joined(separator: ", "))"
            Console.error("damaged blob \(damage.digest): \(damage.problem) (\(users))")
        }
        if report.isIntact {
            print("verified \(report.blobsChecked) blobs (\(Console.size(report.bytesChecked))): all intact")
        } else {
            print("verified \(report.blobsChecked) blobs: \(report.damaged.count) damaged")
            throw ExitCode(4)
        }
    }
}
