import QuiverModel
import QuiverCodec

/// The blob store's use of QuiverCodec's byte-plane container.
enum PlaneCoding {
    /// Encodes exactly `contentLength` bytes from `source` into `output`.
    static func encode(
        contentLength: Int, elementWidth: Int, from source: (UnsafeMutableRawBufferPointer) throws -> Int,
        to output: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        do {
            _ = try TensorCodec.compress(rawLength: contentLength, elementWidth: elementWidth, from: source, to: output)
        } catch let error as CodecError {
            throw QuiverError(.io, "compression failed: \(error)")
        }
    }

    /// Decodes a stored container, refusing content longer than `contentLimit` as soon as it appears.
    ///
    /// No decompression bomb: a container whose header declares more than `contentLimit` bytes is refused before
    /// any plane is inflated, and the codec itself stops every plane at its declared size (`planeOverflow`), so a
    /// container cannot expand beyond what its header says either.
    static func decode(_ stored: UnsafeRawBufferPointer, contentLimit: Int, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let declared: Int
        do {
            declared = try ContainerHeader(decoding: stored).rawLength
        } catch let error as CodecError {
            throw QuiverError(.corrupt, "cannot decode: \(error)")
        }
        guard declared <= contentLimit else {
            throw QuiverError(.corrupt, "container declares \(declared) bytes of content, over its recorded size of \(contentLimit) bytes: refused before decoding")
        }
        var offset = 0
        var produced = 0
        do {
            _ = try TensorCodec.decompress(
                from: { buffer in
                    let count = min(buffer.count, stored.count - offset)
                    buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: stored[offset..<(offset + count)]))
                    offset += count
                    return count
                },
                to: { bytes in
                    produced += bytes.count
                    guard produced <= contentLimit else {
                        throw QuiverError(.corrupt, "decoded content exceeds its recorded size of \(contentLimit) bytes")
                    }
                    try sink(bytes)
                })
        } catch let error as CodecError {
            throw QuiverError(.corrupt, "cannot decode: \(error)")
        }
    }
}

/// Reads a sequence of byte ranges as one stream (the canonical safetensors header followed by
/// the tensors' bytes in canonical order, straight from the mapped file).
struct SegmentReader {
    private var segments: [UnsafeRawBufferPointer]
    private var index = 0
    private var offset = 0

    init(_ segments: [UnsafeRawBufferPointer]) { self.segments = segments }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var filled = 0
        while filled < buffer.count, index < segments.count {
            let segment = segments[index]
            let count = min(buffer.count - filled, segment.count - offset)
            if count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + count)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: segment[offset..<(offset + count)]))
            }
            filled += count
            offset += count
            if offset == segment.count {
                index += 1
                offset = 0
            }
        }
        return filled
    }
}
