import QuiverModel

/// How much content one stored blob received from elsewhere may decode to, decided from its
/// descriptor before a byte of it is downloaded or decoded.
///
/// The content size is a number the sender writes (`io.quiver.content.size`), and a byte-plane
/// container of zeros deflates about a thousand to one: without a bound, a small layer could fill
/// the disk before its content digest is checked. Real weights compress 1–4 to one; a file made
/// mostly of zeros (a fresh LoRA `B`, a zero-initialised head) compresses far more, but such files
/// are small, so content up to `ratioExemptSize` is not held to the ratio.
public struct ContentLimits: Sendable, Equatable {
    /// No layer's content may be larger (the largest single safetensors file a base model has).
    public var maximumContentSize: Int
    /// Content larger than `ratioExemptSize` may be at most this many times its stored size.
    public var maximumRatio: Int
    public var ratioExemptSize: Int

    public init(maximumContentSize: Int = 64 << 30, maximumRatio: Int = 64, ratioExemptSize: Int = 16 << 20) {
        self.maximumContentSize = maximumContentSize
        self.maximumRatio = maximumRatio
        self.ratioExemptSize = ratioExemptSize
    }

    public static let standard = ContentLimits()

    /// Refuses a blob whose declared content is out of bounds; `what` names it in the message.
    public func check(_ blob: BlobDescriptor, what: String) throws {
        guard blob.size >= 0, blob.contentSize >= 0 else {
            throw QuiverError(.invalidInput, "\(what) declares a negative size")
        }
        switch blob.encoding {
        case .raw:
            guard blob.contentDigest == blob.digest, blob.contentSize == blob.size else {
                throw QuiverError(.invalidInput, "\(what) is stored as it is, but its content descriptor (\(blob.contentDigest), \(blob.contentSize) bytes) differs from its stored one")
            }
        case .planes:
            guard blob.contentSize <= maximumContentSize else {
                throw QuiverError(
                    .invalidInput,
                    "\(what) declares \(blob.contentSize) bytes of content, over the limit of \(maximumContentSize) bytes")
            }
            let (bound, overflow) = blob.size.multipliedReportingOverflow(by: maximumRatio)
            guard blob.contentSize <= ratioExemptSize || overflow || blob.contentSize <= bound else {
                throw QuiverError(
                    .invalidInput,
                    "\(what) declares \(blob.contentSize) bytes of content from \(blob.size) stored bytes, "
                        + "a ratio over \(maximumRatio) to 1 for content above \(ratioExemptSize) bytes: refused as a decompression bomb")
            }
        }
    }
}
