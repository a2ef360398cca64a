// A prediction head's tensors: `heads.NAME.INDEX.{weight|bias}` (an nn.Sequential of Dropout, Linear, Activation…).

extension AdapterTensor {
    /// Compiled once (a regex literal is parsed again each time it is evaluated).
    nonisolated(unsafe) private static let headPattern = /heads\.([^.]+)\.(\d+)\.(weight|bias)/

    static func parseHead(_ name: String) -> AdapterTensor? {
        guard let match = name.wholeMatch(of: headPattern), let index = Int(match.2) else { return nil }
        return .head(head: String(match.1), index: index, parameter: String(match.3))
    }

    /// The first linear layer of a head reads the hidden state (CLS token).
    static func headShapeProblem(index: Int, _ parameter: String, _ shape: [Int], hidden h: Int) -> String? {
        guard index == 1, parameter == "weight" else { return nil }
        return shape.count == 2 && shape[1] == h ? nil : "first head layer reads \(shape.count == 2 ? shape[1] : 0) features, hidden size is \(h)"
    }
}
