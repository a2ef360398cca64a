import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverModel
import QuiverStore
import Testing

@testable import QuiverHub

/// `quiver serve` on the encoder families (not among the suites that bound answer times: loading four bases under a
/// sanitizer takes its time).
@Suite struct ServerEncoderFamilyTests {
    /// `/v1/infer` on RoBERTa, XLM-R and DistilBERT bases (the family fixtures of QuiverModelTests): each answers with
    /// its adapter's head, beside the BERT sample.
    @Test func encoderFamiliesAnswer() async throws {
        let families = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("QuiverModelTests/Fixtures/families").path
        let workspace = try ServerWorkspace.filled()
        for family in ["roberta", "xlm-roberta", "distilbert"] {
            try workspace.registry.addBase(folder: families + "/" + family, name: family)
            try workspace.registry.push(Reference(parsing: family + "-task"), folder: families + "/adapters/\(family)-seq-bn-head", baseName: family)
        }
        var limits = ServerLimits()
        limits.cachedBases = 4  // all four bases at once (two by default, the next only after 30 s unused)
        try await workspace.app(limits: limits).test(.router) { client in
            for task in ["roberta-task", "xlm-roberta-task", "distilbert-task", "sentiment"] {
                let response = try await client.post(json: ["task": task, "texts": ["great film", "北京欢迎你 🎉"]], to: "/v1/infer")
                #expect(response.status == .ok, "\(task): \(response.text)")
                let served = try JSONDecoder().decode(TaskResults.self, from: Data(response.bytes))
                #expect(served.results.count == 2 && served.results.allSatisfy { ($0.logits?.count ?? 0) >= 2 }, "\(task): \(response.text)")
            }
        }
    }
}
