// QuiverStore: content-addressed blobs, the SQLite catalog and the registry operations.
