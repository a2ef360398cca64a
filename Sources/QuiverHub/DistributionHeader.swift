/// Header names of the OCI distribution spec, written once for the client and the server.
enum DistributionHeader {
    /// The digest of a manifest or blob, answered by the registry.
    static let contentDigest = "Docker-Content-Digest"
    /// `registry/2.0` on every answer of `/v2/`.
    static let apiVersion = "Docker-Distribution-API-Version"
    /// The id of an upload session.
    static let uploadUUID = "Docker-Upload-UUID"
    /// The smallest chunk a registry accepts in a `PATCH`, other than the last.
    static let chunkMinLength = "OCI-Chunk-Min-Length"
}
