import ArgumentParser
import QuiverModel
import QuiverStore

struct BaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "base", abstract: "Manage base models.",
        subcommands: [Add.self, List.self, Export.self, Remove.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a base model back out as a Hugging Face model folder (weights as safetensors, bit-identical tensors).")

        @Argument(help: "The base model's name.") var name: String
        @Argument(help: ArgumentHelp("The folder to write.", valueName: "DIR")) var folder: String
        @Flag(help: "Overwrite files that exist with other content.") var force = false
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            let files = try registry.open().exportBase(named: name, to: folder, force: force)
            print("wrote \(files.count) files of base model \(name) to \(folder)")
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a Hugging Face model folder of any family (config.json; model.safetensors, shards with their index, or pytorch_model.bin; tokenizer files).")

        @Argument(help: ArgumentHelp("The model folder.", valueName: "DIR")) var folder: String
        @Option(help: "Name in the registry (default: the folder's name, lower-cased).") var name: String?
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            let result = try registry.open().addBase(folder: folder, name: name)
            let base = result.base
            let verb = result.added ? "added" : "unchanged:"
            print("\(verb) base model \(base.name) (\(base.modelType), \(base.dtype.isEmpty ? "" : base.dtype + ", ")\(base.layerCount) layers, hidden \(base.hiddenSize), \(Console.count(base.parameters)) parameters, \(Console.size(base.size)) → \(Console.size(base.storedSize)) stored)")
            if let note = base.engineNote { Console.note(note) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List base models.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            let bases = try registry.open().baseModels()
            if json {
                try Console.printJSON(bases.map(BaseModelSummary.init))
                return
            }
            print(Console.table(
                ["NAME", "TYPE", "DTYPE", "RUNS", "LAYERS", "HIDDEN", "PARAMETERS", "SIZE", "STORED", "DIGEST"],
                bases.map {
                    [$0.name, $0.modelType, $0.dtype, $0.runnable ? "yes" : "no", String($0.layerCount), String($0.hiddenSize), Console.count($0.parameters),
                     Console.size($0.size), Console.size($0.storedSize), String($0.digest.prefix(19))]
                }))
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a base model that no adapter uses.")
        @Argument var name: String
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            try registry.open().removeBase(named: name)
            print("removed base model \(name)")
        }
    }
}
