// Fuzz builds only (scripts/fuzz.sh, target hub): the one member of QuiverStore's `Registry` that the request
// parsers use, so the hub target does not compile the catalog (GRDB). Must match Registry+Transfer.swift.

enum Registry {
    static func baseRepository(_ name: String) -> String { "base/" + name }
}
