"""The embedded default backend: FalkorDB's store, bulk writer, parameter encoder and server process."""
