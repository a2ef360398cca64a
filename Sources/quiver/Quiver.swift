import ArgumentParser
import Foundation
import QuiverModel
import QuiverStore

/// `quiver`: the command-line face of the Quiver libraries. Commands parse, call a library, print.
@main
struct Quiver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiver",
        abstract: "A registry and hub for task adapters of one base model.",
        discussion: """
            The registry is the folder in QUIVER_HOME (or --home); in a Quiver checkout it defaults to
            its registry/ folder, elsewhere to ~/.quiver.
            """,
        subcommands: [
            BaseCommand.self,
            PushCommand.self,
            PullCommand.self,
            ListCommand.self,
            ShowCommand.self,
            RemoteCommand.self,
            FuseCommand.self,
            TrainCommand.self,
            InferCommand.self,
            EvalCommand.self,
            EmbedCommand.self,
            RemoveCommand.self,
            CollectGarbageCommand.self,
            VerifyCommand.self,
            SampleCommand.self,
            ServeCommand.self,
        ])

    /// Runs a command and turns every error into one line on stderr and a non-zero exit status.
    static func main() async {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)  // usage errors and --help, formatted by ArgumentParser
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as QuiverError {
            Console.error(error.message)
            Foundation.exit(error.exitCode)
        } catch let error where error is ExitCode || exitCode(for: error) != .failure {
            exit(withError: error)  // validation errors, clean exits, and `quiver help CMD` (which throws a help request)
        } catch {
            Console.error("\(error)")
            Foundation.exit(1)
        }
    }
}

extension QuiverError {
    /// 1 for most failures; 3 when the thing asked for does not exist; 4 for damaged data.
    var exitCode: Int32 {
        switch kind {
        case .notFound: 3
        case .corrupt: 4
        default: 1
        }
    }
}
