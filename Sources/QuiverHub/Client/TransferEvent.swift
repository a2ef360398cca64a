import QuiverModel
import QuiverStore

/// What a push or pull reports while it runs, for progress bars and logs.
public enum TransferEvent: Sendable, Equatable {
    public enum Action: String, Sendable {
        case push, pull
    }

    /// How a blob got where it goes.
    public enum BlobOutcome: String, Sendable {
        /// Sent whole or in chunks.
        case uploaded
        case downloaded
        /// Linked by the remote from another of its repositories (a cross-repository mount).
        case mounted
        /// The remote had it already.
        case exists
    }

    /// An artifact's turn begins.
    case artifact(action: Action, repository: String, reference: String)
    /// A blob transfer starts: `already` bytes are there (a resumed download).
    case blobStarted(id: String, label: String, total: Int, already: Int)
    /// Bytes done so far.
    case blobProgress(id: String, done: Int)
    /// The blob is done.
    case blobFinished(id: String, outcome: BlobOutcome)
    /// Of `total` things asked for, `done` are finished (imported, published or failed).
    case progress(action: Action, done: Int, total: Int)
}

extension TransferEvent {
    /// The event with its texts made safe for a terminal.
    var sanitized: TransferEvent {
        switch self {
        case .artifact(let action, let repository, let reference):
            .artifact(action: action, repository: TerminalText.sanitized(repository), reference: TerminalText.sanitized(reference))
        case .blobStarted(let id, let label, let total, let already):
            .blobStarted(id: id, label: TerminalText.sanitized(label), total: total, already: already)
        case .blobProgress, .blobFinished, .progress: self
        }
    }
}

/// Something a pull or a push was asked for that did not go through, and why.
public struct TransferFailure: Sendable {
    /// What was asked for: `TASK:TAG` or `TASK@DIGEST`.
    public var name: String
    public var error: any Error
}

/// Receives transfer events; may be called from several tasks at once.
public typealias TransferObserver = @Sendable (TransferEvent) -> Void

/// The events of one blob.
struct TransferProgress: Sendable {
    let id: String
    let label: String
    let observer: TransferObserver?

    init(digest: String, label: String, observer: TransferObserver?) {
        id = digest
        self.label = label
        self.observer = observer
    }

    func started(total: Int, already: Int) { observer?(.blobStarted(id: id, label: label, total: total, already: already)) }
    func advanced(to done: Int) { observer?(.blobProgress(id: id, done: done)) }
    func finished(_ outcome: TransferEvent.BlobOutcome = .downloaded) { observer?(.blobFinished(id: id, outcome: outcome)) }
}
