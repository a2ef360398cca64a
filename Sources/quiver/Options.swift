import ArgumentParser
import QuiverModel
import QuiverStore

/// Where the registry is.
struct RegistryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The registry folder (default: $QUIVER_HOME, the checkout's registry/, or ~/.quiver).", valueName: "DIR"))
    var home: String?

    func open() throws -> Registry {
        try Registry(home: home ?? DefaultHome.path())
    }
}
