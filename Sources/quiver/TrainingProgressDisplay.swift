import Foundation
import QuiverModel

/// Shows a training run on stderr: on a terminal a bar redrawn in place (epoch, steps, loss, examples/s, time
/// left); otherwise — a log file, a pipe — a plain line every `interval` seconds. Epoch results always get a line.
final class TrainingProgressDisplay {
    let isTerminal: Bool
    let interval: Double
    private var lastLine = -Double.infinity
    private var barShown = false
    private let start = Date()

    init(isTerminal: Bool = isatty(STDERR_FILENO) != 0, interval: Double = 10) {
        self.isTerminal = isTerminal
        self.interval = interval
    }

    func handle(_ event: TrainingEvent) {
        switch event {
        case .step(let p):
            if isTerminal {
                write("\r" + Self.bar(p) + "\u{1B}[K")
                barShown = true
            } else {
                let now = Date().timeIntervalSince(start)
                guard now - lastLine >= interval || p.completedSteps == p.totalSteps else { return }
                lastLine = now
                write(Self.plain(p) + "\n")
            }
        case .evaluating(let epoch, let examples):
            if isTerminal { write("\r\u{1B}[Kepoch \(epoch): evaluating on \(examples) examples…") }
        case .epochFinished(let record, let isBest):
            endBar()
            write(Self.summary(record, isBest: isBest) + "\n")
        }
    }

    private func endBar() {
        if isTerminal, barShown { write("\r\u{1B}[K") }
        barShown = false
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    // MARK: - Text

    /// `epoch 1/3 [██████░░░░░░░░░░░░░░]  38/120  loss 0.6812  231 ex/s  1:12 left`
    static func bar(_ p: TrainingProgress, width: Int = 24) -> String {
        let filled = p.stepsPerEpoch == 0 ? width : min(width, width * p.step / p.stepsPerEpoch)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let steps = String(p.step).leftPadded(to: String(p.stepsPerEpoch).count)
        return "epoch \(p.epoch)/\(p.epochs) [\(bar)] \(steps)/\(p.stepsPerEpoch)  loss \(String(format: "%.4f", p.loss))  "
            + "\(String(format: "%.0f", p.examplesPerSecond)) ex/s  \(duration(p.secondsLeft)) left"
    }

    /// `epoch 1/3 step 38/120 (run 38/360): loss 0.6812, 231 examples/s, 1:12 left`
    static func plain(_ p: TrainingProgress) -> String {
        "epoch \(p.epoch)/\(p.epochs) step \(p.step)/\(p.stepsPerEpoch) (run \(p.completedSteps)/\(p.totalSteps)): "
            + "loss \(String(format: "%.4f", p.loss)), \(String(format: "%.0f", p.examplesPerSecond)) examples/s, "
            + "\(duration(p.secondsLeft)) left"
    }

    /// `epoch 1: loss 0.5123, dev accuracy 0.8750, macro-F1 0.8702, 231 examples/s, 0:41 (best so far)`
    static func summary(_ record: EpochRecord, isBest: Bool) -> String {
        var parts = ["loss \(String(format: "%.4f", record.trainLoss))"]
        if let accuracy = record.devAccuracy, let f1 = record.devMacroF1 {
            parts.append("dev accuracy \(String(format: "%.4f", accuracy)), macro-F1 \(String(format: "%.4f", f1))")
        }
        parts.append("\(String(format: "%.0f", record.examplesPerSecond)) examples/s, \(duration(record.seconds))")
        let best = record.devAccuracy != nil && isBest ? " (best so far)" : ""
        return "epoch \(record.epoch): " + parts.joined(separator: ", ") + best
    }

    /// `0:07`, `12:34`, `1:02:03`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.isFinite ? max(0, seconds.rounded()) : 0)
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
