import NIOCore

/// Limits and sizes of a client's transfers.
public struct TransferOptions: Sendable {
    /// Blobs up to this size are uploaded in one `PUT`; larger ones in chunks.
    public var monolithicLimit: Int
    /// The size of each `PATCH` of a chunked upload (raised to the remote's `OCI-Chunk-Min-Length`).
    public var chunkSize: Int
    /// Manifests larger than this are refused (the distribution spec's usual limit).
    public var manifestLimit: Int
    /// Config blobs larger than this are refused.
    public var configLimit: Int
    /// How often an interrupted download is resumed within one run.
    public var resumeAttempts: Int
    /// How long one request may take to connect; reads time out after `readTimeout` without data.
    public var connectTimeout: TimeAmount
    public var readTimeout: TimeAmount
    /// How many blob transfers run at once.
    public var parallelTransfers: Int

    public init(
        monolithicLimit: Int = 16 << 20, chunkSize: Int = 16 << 20, manifestLimit: Int = 4 << 20, configLimit: Int = 4 << 20,
        resumeAttempts: Int = 3, connectTimeout: TimeAmount = .seconds(10), readTimeout: TimeAmount = .seconds(120),
        parallelTransfers: Int = 4
    ) {
        self.monolithicLimit = monolithicLimit
        self.chunkSize = chunkSize
        self.manifestLimit = manifestLimit
        self.configLimit = configLimit
        self.resumeAttempts = resumeAttempts
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.parallelTransfers = parallelTransfers
    }
}
