import ArgumentParser
import Foundation
import QuiverHub
import QuiverStore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the registry: OCI distribution endpoint, JSON API, web page and inference.",
        discussion: """
            Repositories are NAMESPACE/TASK (adapters and fusions, one tag per version plus latest) and
            NAMESPACE/base/NAME (base models), so `quiver pull TASK --from http://HOST:PORT/NAMESPACE` works
            against it, as do other OCI clients. With a token (--token, or better QUIVER_TOKEN: a flag is
            visible to other users of the machine), pushes and deletes need `Authorization: Bearer TOKEN`;
            reads stay anonymous unless --no-anonymous-read.
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080
    @Option(help: "The namespace repositories live under.") var namespace = "quiver"
    @Option(help: ArgumentHelp("Token that writes need (default: $QUIVER_TOKEN).", valueName: "TOKEN")) var token: String?
    @Flag(inversion: .prefixedNo, help: "Allow reads without the token.") var anonymousRead = true
    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be in 0...65535") }
    }

    func run() async throws {
        let environmentToken = ProcessInfo.processInfo.environment["QUIVER_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let settings = try ServerSettings(
            home: registry.home ?? Registry.defaultHome(), host: host, port: port, namespace: namespace,
            token: token ?? environmentToken, anonymousRead: anonymousRead)
        let auth = settings.token == nil ? "no token: anyone may push" : (settings.anonymousRead ? "token needed to write" : "token needed to read and write")
        try await runServer(settings: settings) { [host, namespace, home = settings.home] port in
            Console.note("serving \(home) at http://\(host):\(port)/\(namespace) (\(auth))")
        }
    }
}
