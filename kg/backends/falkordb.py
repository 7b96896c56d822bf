"""FalkorDB backend (the embedded default) through the `falkordb` client."""

from __future__ import annotations

from typing import Any

from kg.errors import StoreUnavailable
from kg.store import GraphStore, Row


class FalkorDBStore(GraphStore):
    """A graph in a FalkorDB server at `url` (embedded or external)."""

    dialect = "falkordb"

    def __init__(self, url: str, graph: str, timeout_s: float = 60.0, identity: str | None = None) -> None:
        self.url = url
        self.graph_name = graph
        self.name = f"FalkorDB {url} graph {graph!r}"
        # The embedded server's port changes across restarts; its data directory does not.
        self.identity = identity or f"falkordb:{url}:{graph}"
        self._timeout_s = timeout_s
        self._db: Any = None
        self._graph: Any = None

    def connect(self) -> None:
        """Open the client and check the server answers."""
        import falkordb
        import redis

        try:
            self._db = falkordb.FalkorDB.from_url(self.url)
            self._db.connection.ping()
        except redis.exceptions.ConnectionError as e:
            raise StoreUnavailable(self.name, f"cannot connect: {e}") from e
        self._graph = self._db.select_graph(self.graph_name)

    def close(self) -> None:
        """Close the client's connection pool."""
        if self._db is not None:
            self._db.close()
        self._db = self._graph = None

    def _rows(self, result: Any) -> list[Row]:
        header = [column[1] if isinstance(column, list | tuple) else column for column in result.header]
        return [dict(zip(header, row, strict=True)) for row in result.result_set]

    def _write(self, query: str, params: Row) -> list[Row]:
        return self._rows(self._graph.query(query, params, timeout=int(self._timeout_s * 1000)))

    def _read(self, query: str, params: Row) -> list[Row]:
        return self._rows(self._graph.ro_query(query, params, timeout=int(self._timeout_s * 1000)))

    def _apply_schema(self, statement: str) -> None:
        import redis

        try:
            self._graph.query(statement)
        except redis.exceptions.ResponseError as e:
            if "already indexed" not in str(e):
                raise

    def ensure_schema(self) -> None:
        """The shared indexes, then unique ids for nodes (FalkorDB's GRAPH.CONSTRAINT needs them)."""
        import redis

        super().ensure_schema()
        for label in ("Item", "Concept"):
            try:
                self._graph.create_node_unique_constraint(label, "id")
            except redis.exceptions.ResponseError as e:
                if "already exists" not in str(e).lower():
                    raise

    def is_transient(self, error: BaseException) -> bool:
        """Connection and timeout errors: the server went away or is restarting."""
        import redis

        return isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)

    def clear(self) -> None:
        """Delete the graph if it exists."""
        import redis

        try:
            self._graph.delete()
        except redis.exceptions.ResponseError as e:
            if "empty key" not in str(e).lower() and "invalid graph" not in str(e).lower():
                raise
