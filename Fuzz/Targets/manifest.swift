// Fuzz target: OCI image manifests as a pull or `quiver serve` receives them (Manifest.decode, the
// content descriptors in layer annotations, deterministic re-encoding) and the config blobs / quiver.json
// exports decoded with Foundation's JSONDecoder (ArtifactConfig, BaseConfig).
// Built into module QuiverStore (a subset of its files) by scripts/fuzz.sh; see docs/fuzzing.md.

import Foundation
import QuiverModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Config blobs and quiver.json exports are decoded the same way (Foundation's JSONDecoder).
    _ = try? JSONDecoder().decode(ArtifactConfig.self, from: Data(bytes))
    _ = try? JSONDecoder().decode(BaseConfig.self, from: Data(bytes))
    guard let manifest = try? Manifest.decode(bytes, source: "fuzz") else { return 0 }
    for layer in manifest.layers { _ = try? Manifest.contentOf(layer) }
    _ = try? Manifest.contentOf(manifest.config)
    // Re-encoding is deterministic and decodes to the same manifest.
    let encoded = manifest.encoded()
    guard let again = try? Manifest.decode(encoded, source: "re-encoded"), again == manifest, again.encoded() == encoded else {
        fatalError("manifest does not survive re-encoding")
    }
    return 0
}
