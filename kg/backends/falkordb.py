"""FalkorDB backend (the embedded default) through the `falkordb` client."""

from __future__ import annotations

import logging
import time
from typing import Any

import pyarrow as pa

from kg import cypher
from kg.backends.falkordb_params import rows_literal
from kg.cypher import Label
from kg.errors import StoreUnavailable
from kg.schema import RelationType
from kg.store import GraphStore, Row, WriteCount, now_ms, write_count

# Item/concept ids -> internal node ids kept per label; past this many the cache starts over
# (about 150 bytes an entry), so memory stays bounded however large the graph.
NODE_CACHE_LIMIT = 1_000_000
SOCKET_MARGIN_S = 5.0
INDEX_POLL_S = 0.1
INDEX_LOG_S = 10.0
log = logging.getLogger("kgrec")


def _no_such_graph(error: Exception) -> bool:
    """Whether a server error says the graph does not exist (yet)."""
    message = str(error).lower()
    return "empty key" in message or "invalid graph" in message


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
        self._node_ids: dict[Label, dict[str, int]] = {"Item": {}, "Concept": {}}

    def connect(self) -> None:
        """Open the client and check the server answers."""
        import falkordb
        import redis

        try:
            # Reads may wait on a long write (or an index being built) for up to the query
            # timeout; the socket must not give up first (the client's default is 5 s).
            self._db = falkordb.FalkorDB.from_url(self.url, socket_timeout=self._timeout_s + SOCKET_MARGIN_S)
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

    def _write_rows(self, statement: str, rows: pa.Table, now: int) -> list[Row]:
        """Run a `$rows`/`$now` write with the rows encoded a column at a time (`falkordb_params`)."""
        header = f"CYPHER rows={rows_literal(rows)} now={now} "
        return self._rows(self._graph.query(header + statement, timeout=int(self._timeout_s * 1000)))

    def _read(self, query: str, params: Row) -> list[Row]:
        return self._rows(self._graph.ro_query(query, params, timeout=int(self._timeout_s * 1000)))

    def upsert_items(self, rows: pa.Table) -> None:
        """MERGE items by id, the rows encoded a column at a time (`falkordb_params`)."""
        self._write_rows(cypher.UPSERT_ITEMS, rows, now_ms())

    def upsert_relations(self, relation: RelationType, rows: pa.Table) -> WriteCount:
        """MERGE relations of one type, finding endpoints by cached internal node id.

        An index lookup per endpoint per row cost FalkorDB more than the MERGE itself; each
        item's node id is looked up once instead. When fewer rows match than were sent (an
        unknown endpoint, or a cached id gone stale), the batch's ids are looked up afresh and
        the batch is sent once more: the statement is idempotent, and with the same `$now` its
        `written` count includes rows the first try wrote. Rows are encoded a column at a time
        (`falkordb_params`), not by the client's per-value encoder.
        """
        statement = cypher.upsert_relations(relation, cypher.ENDPOINTS_BY_NODE_ID)
        tail = cypher.tail_label(relation)
        heads, tails = rows.column("head").to_pylist(), rows.column("tail").to_pylist()
        now = now_ms()

        def send() -> WriteCount:
            head_ids, tail_ids = self._lookup("Item", set(heads)), self._lookup(tail, set(tails))
            with_ids = rows.append_column("hid", pa.array([head_ids.get(h) for h in heads], pa.int64()))
            with_ids = with_ids.append_column("tid", pa.array([tail_ids.get(t) for t in tails], pa.int64()))
            return write_count(self._write_rows(statement, with_ids, now))

        count = send()
        if count.matched < rows.num_rows:
            self._forget(heads, tails, tail)
            count = send()
        return count

    def _lookup(self, label: Label, ids: set[str]) -> dict[str, int]:
        """The cache of `label`, holding every one of `ids` that is a node."""
        cache = self._node_ids[label]
        unknown = [i for i in ids if i not in cache]
        if unknown:
            if len(cache) + len(unknown) > NODE_CACHE_LIMIT:
                cache.clear()
            for row in self._read(cypher.resolve_nodes(label), {"ids": unknown}):
                cache[row["id"]] = row["node"]
        return cache

    def _forget(self, heads: list[str], tails: list[str], tail: Label) -> None:
        for head in heads:
            self._node_ids["Item"].pop(head, None)
        for tail_id in tails:
            self._node_ids[tail].pop(tail_id, None)

    def _apply_schema(self, statement: str) -> None:
        import redis

        try:
            self._graph.query(statement)
        except redis.exceptions.ResponseError as e:
            if "already indexed" not in str(e):
                raise

    def ensure_schema(self, relation_indexes: bool = True) -> None:
        """The shared indexes, then unique ids for nodes (FalkorDB's GRAPH.CONSTRAINT needs them)."""
        import redis

        super().ensure_schema(relation_indexes)
        for label in ("Item", "Concept"):
            try:
                self._graph.create_node_unique_constraint(label, "id")
            except redis.exceptions.ResponseError as e:
                if "already exists" not in str(e).lower():
                    raise

    def bulk_load_begins(self) -> bool:
        """Yes when the graph has no relationships: build their indexes once, after the load.

        Keeping FalkorDB's relationship id index up to date row by row cost more server time
        per relation the larger the graph grew (at 1M relations, 35 rising to 110 µs a row,
        against 21-26 µs without the index); building it over the loaded graph takes about
        9 µs a relation. MERGE does not need it: both endpoints are bound, so an existing
        relationship is found among the edges between them.
        """
        import redis

        try:
            return not self._read(cypher.ANY_RELATIONSHIP, {})
        except redis.exceptions.ResponseError as e:
            if not _no_such_graph(e):
                raise
            return True

    def await_indexes(self) -> None:
        """Poll `db.indexes()` until no index is still being populated.

        FalkorDB builds indexes in the background; progress is logged every `INDEX_LOG_S` seconds.
        """
        started = last_log = time.monotonic()
        while pending := [row["label"] for row in self._read(cypher.INDEX_STATES, {})
                          if row["status"] != "OPERATIONAL"]:
            if time.monotonic() - last_log >= INDEX_LOG_S:
                log.info("%s: indexes of %s still building (%.0f s)", self.name, ", ".join(pending),
                         time.monotonic() - started)
                last_log = time.monotonic()
            time.sleep(INDEX_POLL_S)

    def is_transient(self, error: BaseException) -> bool:
        """Connection and timeout errors: the server went away or is restarting."""
        import redis

        return isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError)

    def clear(self) -> None:
        """Delete the graph if it exists."""
        import redis

        for cache in self._node_ids.values():
            cache.clear()
        try:
            self._graph.delete()
        except redis.exceptions.ResponseError as e:
            if not _no_such_graph(e):
                raise
