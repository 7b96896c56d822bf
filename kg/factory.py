"""The configured graph store: which backend, where, and the embedded server's lifetime for a run.

Every entry point (the CLI, `kgrec run`, benchmarks) opens the graph through `make_store`, so
the choice of backend from `GraphSection` is made in one place; dialect code stays in
`kg/backends/`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from kg.backends.falkordb import server as falkordb_server
from kg.config import GraphSection
from kg.errors import ConfigError, StoreUnavailable
from kg.store import GraphStore


def make_store(settings: GraphSection) -> GraphStore:
    """The configured store, not yet connected.

    Raises:
        StoreUnavailable: the embedded server is not running (`kgrec graph start`).
        ConfigError: Neo4j is configured without a password.
    """
    if settings.backend == "neo4j":
        from kg.backends.neo4j import Neo4jStore

        if settings.neo4j_password is None:
            raise ConfigError("graph.neo4j_password is not set (KGREC_GRAPH__NEO4J_PASSWORD)")
        assert settings.neo4j_uri  # checked by GraphSection
        return Neo4jStore(settings.neo4j_uri, settings.neo4j_user,
                          settings.neo4j_password.get_secret_value(), settings.neo4j_database)
    from kg.backends.falkordb.store import FalkorDBStore

    if settings.falkordb_url is not None:
        return FalkorDBStore(settings.falkordb_url, settings.graph, lease_s=settings.load_lease_s,
                             fix="check that the server runs and that graph.falkordb_url names it")
    info = falkordb_server.status(settings.state_dir)
    if info is None:
        raise StoreUnavailable("embedded FalkorDB",
                               f"not running for {settings.state_dir}; start it with `kgrec graph start`")
    return FalkorDBStore(info.url, settings.graph, lease_s=settings.load_lease_s,
                         identity=f"embedded:{settings.state_dir.resolve()}:{settings.graph}",
                         fix="restart it with `kgrec graph stop` and `kgrec graph start`")


@contextlib.contextmanager
def embedded_server_for_run(settings: GraphSection) -> Iterator[None]:
    """Start the embedded server for the duration of a run if it is not running already."""
    if settings.backend != "falkordb" or settings.falkordb_url or falkordb_server.status(settings.state_dir):
        yield
        return
    falkordb_server.start(settings.state_dir, settings.port)
    try:
        yield
    finally:
        falkordb_server.stop(settings.state_dir)
