// QuiverCodec: float-aware lossless compression (byte-plane grouping + deflate).
