import ArgumentParser
import Foundation
import QuiverHub
import QuiverModel
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
            reads stay anonymous unless --no-anonymous-read. Without a token, writes are taken only on a
            loopback address: listening elsewhere needs a token, --read-only or --allow-anonymous-writes.
            Requests must name the server in their Host header (an address it listens on, or the host of
            a --public-url): others are answered 421, which stops DNS-rebinding attacks from web pages.
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8080
    @Option(help: "The namespace repositories live under.") var namespace = "quiver"
    @Option(help: ArgumentHelp("Token that writes need (default: $QUIVER_TOKEN).", valueName: "TOKEN")) var token: String?
    @Flag(inversion: .prefixedNo, help: "Allow reads without the token.") var anonymousRead = true
    @Flag(help: "Refuse every write (push, delete).") var readOnly = false
    @Flag(help: "Without a token, take writes from anyone on a non-loopback address too.") var allowAnonymousWrites = false
    @Option(help: ArgumentHelp("A URL clients reach the server by (a proxy, a DNS name); repeatable.", valueName: "URL"))
    var publicURL: [String] = []
    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be in 0...65535") }
        if readOnly, allowAnonymousWrites { throw ValidationError("--read-only and --allow-anonymous-writes exclude each other") }
    }

    func run() async throws {
        let environmentToken = ProcessInfo.processInfo.environment["QUIVER_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let settings = try ServerSettings(
            home: registry.home ?? DefaultHome.path(), host: host, port: port, namespace: namespace,
            token: token ?? environmentToken, anonymousRead: anonymousRead,
            anonymousWrites: readOnly ? .readOnly : (allowAnonymousWrites ? .allowed : .loopbackOnly), publicURLs: publicURL)
        let auth =
            if readOnly { settings.token == nil || settings.anonymousRead ? "read-only" : "read-only, token needed to read" }
            else if settings.token == nil { "no token: anyone who reaches it may push" }
            else { settings.anonymousRead ? "token needed to write" : "token needed to read and write" }
        try await runServer(settings: settings) { [host, namespace, home = settings.home] port in
            Console.note("serving \(home) at http://\(host):\(port)/\(namespace) (\(auth))")
        }
    }
}
