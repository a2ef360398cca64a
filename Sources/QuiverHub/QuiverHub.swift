// QuiverHub: the OCI distribution client (push/pull to any OCI registry) and the `quiver serve` server.
