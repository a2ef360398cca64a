import Foundation
import QuiverModel
import QuiverStore
#if canImport(Glibc)
import Glibc
#endif

/// Shows transfer events on standard error: a progress bar per blob redrawn in place on a
/// terminal, one plain line per finished blob otherwise (logs, CI).
///
/// ```swift
/// let display = ProgressDisplay()
/// let report = try await RemotePull(registry: registry, client: client, observer: display.observer).pull(reference)
/// display.finish()
/// ```
public final class ProgressDisplay: Sendable {
    struct Bar {
        var label: String
        var total: Int
        var done: Int
    }

    private struct State {
        var bars: [String: Bar] = [:]
        /// The blobs shown with a bar (large enough to take a while), in start order.
        var order: [String] = []
        var lastDraw: ContinuousClock.Instant?
        /// Lines drawn by the last redraw (to move the cursor back over them).
        var drawnLines = 0
        /// Bytes of the blobs sent or received so far.
        var bytes = 0
    }

    /// Blobs smaller than this get no bar, only their line when done.
    static let barThreshold = 256 << 10

    private let interactive: Bool
    private let write: @Sendable (String) -> Void
    private let state = Locked(State())

    /// - Parameters:
    ///   - interactive: redraw bars in place (default: standard error is a terminal).
    ///   - write: where text goes (default: standard error).
    public init(interactive: Bool? = nil, write: (@Sendable (String) -> Void)? = nil) {
        self.interactive = interactive ?? (isatty(STDERR_FILENO) == 1)
        self.write = write ?? { FileHandle.standardError.write(Data($0.utf8)) }
    }

    /// The observer to hand to `RemotePush` / `RemotePull`.
    public var observer: TransferObserver {
        { [self] event in self.handle(event) }
    }

    /// Clears the bars still shown.
    public func finish() {
        state.withLock { state in
            if interactive, state.drawnLines > 0 { write(Self.erase(lines: state.drawnLines)) }
            state.drawnLines = 0
        }
    }

    /// Repository names, references and labels can come from a remote: shown through `TerminalText`.
    private func handle(_ event: TransferEvent) {
        state.withLock { state in
            switch event.sanitized {
            case .artifact(let action, let repository, let reference):
                let shown = reference.hasPrefix("sha256:") ? Self.shortReference(reference) : ":" + reference
                emit("\(action == .push ? "pushing" : "pulling") \(repository)\(shown)", state: &state)
            case .blobStarted(let id, let label, let total, let already):
                if state.bars[id] == nil, total >= Self.barThreshold { state.order.append(id) }
                state.bars[id] = Bar(label: label, total: total, done: already)
                if already > 0 { emit("  resuming \(label) at \(DisplayFormat.size(already)) of \(DisplayFormat.size(total))", state: &state) }
                redraw(&state, force: true)
            case .blobProgress(let id, let done):
                state.bars[id]?.done = done
                redraw(&state, force: false)
            case .blobFinished(let id, let outcome):
                let bar = state.bars.removeValue(forKey: id)
                if outcome == .uploaded || outcome == .downloaded { state.bytes += bar?.total ?? 0 }
                state.order.removeAll { $0 == id }
                let label = bar?.label ?? Self.shortReference(id)
                let size = bar.map { " (\(DisplayFormat.size($0.total)))" } ?? ""
                emit("  \(outcome.rawValue) \(label)\(size)", state: &state)
            case .progress(let action, let done, let total):
                guard total > 1 else { return }
                emit("\(action == .push ? "published" : "pulled") \(done) of \(total) (\(DisplayFormat.size(state.bytes)))", state: &state)
            }
        }
    }

    /// A line that stays (above the bars on a terminal).
    private func emit(_ line: String, state: inout State) {
        if interactive {
            write(Self.erase(lines: state.drawnLines) + line + "\n")
            state.drawnLines = 0
            redraw(&state, force: true)
        } else {
            write(line + "\n")
        }
    }

    private func redraw(_ state: inout State, force: Bool) {
        guard interactive else { return }
        let now = ContinuousClock.now
        if !force, let last = state.lastDraw, now - last < .milliseconds(100) { return }
        state.lastDraw = now
        let lines = state.order.compactMap { state.bars[$0] }.prefix(8).map(Self.render)
        write(Self.erase(lines: state.drawnLines) + lines.map { $0 + "\n" }.joined())
        state.drawnLines = lines.count
    }

    // MARK: - Text

    static func render(_ bar: Bar) -> String {
        let width = 30
        let fraction = bar.total > 0 ? min(1, Double(bar.done) / Double(bar.total)) : 1
        let filled = Int(fraction * Double(width))
        let label = bar.label.count > 40 ? "…" + bar.label.suffix(39) : bar.label
        return "  [\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] "
            + "\(String(format: "%3d", Int(fraction * 100)))% \(DisplayFormat.size(bar.done))/\(DisplayFormat.size(bar.total)) \(label)"
    }

    /// Moves up over `lines` lines and clears them.
    static func erase(lines: Int) -> String {
        String(repeating: "\u{1B}[1A\u{1B}[2K", count: lines) + "\r"
    }

    static func shortReference(_ reference: String) -> String {
        reference.hasPrefix("sha256:") ? "@" + String(reference.dropFirst(7).prefix(12)) : reference
    }
}
