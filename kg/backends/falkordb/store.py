"""FalkorDB backend (the embedded default) through the `falkordb` client."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from kg import cypher
from kg.backends.falkordb import bulk
from kg.backends.falkordb.params import rows_literal
from kg.cypher import Label
from kg.errors import GraphBusy, StoreUnavailable
from kg.schema import RelationType, now_ms
from kg.store import GraphStore, Row, WriteCount, write_count

# Item/concept ids -> internal node ids kept per label; past this many the cache starts over
# (about 150 bytes an entry), so memory stays bounded however large the graph.
NODE_CACHE_LIMIT = 1_000_000
SOCKET_MARGIN_S = 5.0
INDEX_POLL_S = 0.1
INDEX_LOG_S = 10.0
LEASE_S = 60.0  # a load that stops renewing (it crashed) frees the graph this much later
LEASE_POLL_S = 0.5
# Renew the lease only if this load still holds it; 1 when renewed.
RENEW_LEASE = """if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0"""
RELEASE_LEASE = """if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1]) end
return 0"""
log = logging.getLogger("kgrec")


def _with_rows(statement: str, rows: pa.Table, now: int) -> str:
    """A `$rows`/`$now` statement with its parameters in front, rows encoded by `params`."""
    return f"CYPHER rows={rows_literal(rows)} now={now} {statement}"


def _no_such_graph(error: Exception) -> bool:
    """Whether a server error says the graph does not exist (yet)."""
    message = str(error).lower()
    return "empty key" in message or "invalid graph" in message


class FalkorDBStore(GraphStore):
    """A graph in a FalkorDB server at `url` (embedded or external)."""

    dialect = "falkordb"

    def __init__(self, url: str, graph: str, timeout_s: float = 60.0, identity: str | None = None,
                 lease_s: float = LEASE_S, fix: str = "check that graph.falkordb_url names a running server"
                 ) -> None:
        self.url = url
        self._fix = fix  # what to do when the server cannot be reached
        self.graph_name = graph
        self.name = f"FalkorDB {url} graph {graph!r}"
        # The embedded server's port changes across restarts; its data directory does not.
        self.identity = identity or f"falkordb:{url}:{graph}"
        self._timeout_s = timeout_s
        self._db: Any = None
        self._graph: Any = None
        self._node_ids: dict[Label, dict[str, int]] = {"Item": {}, "Concept": {}}
        self._lease_key = f"kgrec:load-lease:{graph}"
        self._lease_s = lease_s
        self._lease_token: str | None = None  # set while this store holds the graph for a load

    def connect(self) -> None:
        """Open the client and check that the server answers and is FalkorDB (not a plain Redis)."""
        import falkordb
        import redis

        try:
            # Reads may wait on a long write (or an index being built) for up to the query
            # timeout; the socket must not give up first (the client's default is 5 s).
            self._db = falkordb.FalkorDB.from_url(self.url, socket_timeout=self._timeout_s + SOCKET_MARGIN_S)
            self._db.connection.ping()
            self.graphs()
        except redis.exceptions.ConnectionError as e:
            raise StoreUnavailable(self.name, f"cannot connect ({e}); {self._fix}") from e
        except redis.exceptions.ResponseError as e:
            raise StoreUnavailable(self.name, f"answers, but is not FalkorDB ({e}: a plain Redis?); point "
                                   "graph.falkordb_url at a FalkorDB server") from e
        self._graph = self._db.select_graph(self.graph_name)

    def graphs(self) -> list[str]:
        """Names of the graphs the server holds (GRAPH.LIST), sorted."""
        return sorted(n.decode() if isinstance(n, bytes) else str(n) for n in self._db.list_graphs())

    def close(self) -> None:
        """Close the client's connection pool."""
        if self._db is not None:
            self._db.close()
        self._db = self._graph = None

    def _rows(self, result: Any) -> list[Row]:
        header = [column[1] if isinstance(column, list | tuple) else column for column in result.header]
        return [dict(zip(header, row, strict=True)) for row in result.result_set]

    def _write(self, query: str, params: Row) -> list[Row]:
        self._renew_lease()
        return self._rows(self._graph.query(query, params, timeout=int(self._timeout_s * 1000)))

    def _write_rows(self, statement: str, rows: pa.Table, now: int) -> list[Row]:
        """Run a `$rows`/`$now` write with the rows encoded a column at a time (`params`)."""
        return self._write_text(_with_rows(statement, rows, now))

    def _write_text(self, query: str) -> list[Row]:
        """Run a write whose parameters are in its text already."""
        self._renew_lease()
        return self._rows(self._graph.query(query, timeout=int(self._timeout_s * 1000)))

    def _read(self, query: str, params: Row) -> list[Row]:
        """Rows of a read; a graph nothing was written to yet (no key on the server) reads as empty."""
        import redis

        try:
            return self._rows(self._graph.ro_query(query, params, timeout=int(self._timeout_s * 1000)))
        except redis.exceptions.ResponseError as e:
            if _no_such_graph(e):
                return []
            raise

    def upsert_items(self, rows: pa.Table) -> None:
        """MERGE items by id, the rows encoded a column at a time (`params`)."""
        self._write_rows(cypher.UPSERT_ITEMS, rows, now_ms())

    def prepare_upsert(self, relation: RelationType, rows: pa.Table, now: int) -> Callable[[], WriteCount]:
        """MERGE relations of one type, finding endpoints by cached internal node id.

        An index lookup per endpoint per row cost FalkorDB more than the MERGE itself; each
        item's node id is looked up once instead. When fewer rows match than were sent (an
        unknown endpoint, or a cached id gone stale), the batch's ids are looked up afresh and
        the batch is sent once more: the statement is idempotent, and with the same `now` its
        `written` count includes rows the first try wrote. Rows are encoded a column at a time
        (`kg.backends.falkordb.params`), not by the client's per-value encoder.
        """
        statement = cypher.upsert_relations(relation, cypher.ENDPOINTS_BY_NODE_ID)
        labels = cypher.head_label(relation), cypher.tail_label(relation)
        heads, tails = rows.column("head").to_pylist(), rows.column("tail").to_pylist()

        def encoded() -> str:
            source, target = self._node_ids_of(heads, tails, labels)
            return _with_rows(statement, rows.append_column("hid", source).append_column("tid", target), now)

        query = encoded()

        def send() -> WriteCount:
            count = write_count(self._write_text(query))
            if count.matched < rows.num_rows:
                self._forget(heads, tails, labels)
                count = write_count(self._write_text(encoded()))
            return count

        return send

    def prepare_create(self, relation: RelationType, rows: pa.Table, now: int) -> Callable[[], WriteCount]:
        """Add relations the graph does not hold with one `GRAPH.BULK` command (`kg.backends.falkordb.bulk`).

        Only a first load calls this, holding the lease, with a node-id cache it started
        empty (`begin_load`): the ids it sends were looked up during this load, and kgrec never
        deletes nodes, so they are current. (A first load therefore assumes nothing else
        deletes nodes of the graph while it runs.) Rows with an unknown endpoint are not sent
        and not counted as matched, so the loader quarantines them as for the MERGE.
        """
        heads, tails = rows.column("head").to_pylist(), rows.column("tail").to_pylist()
        labels = cypher.head_label(relation), cypher.tail_label(relation)
        source, target = self._node_ids_of(heads, tails, labels)
        resolved = pc.and_(pc.is_valid(source), pc.is_valid(target))
        sent = int(pc.sum(resolved).as_py() or 0)
        blob = bulk.edges_blob(relation, rows.filter(resolved), source.filter(resolved).to_numpy(),
                                        target.filter(resolved).to_numpy(), now)

        def send() -> WriteCount:
            if sent:
                self._renew_lease()
                self._db.connection.execute_command("GRAPH.BULK", self.graph_name, "0", str(sent), "0", "1",
                                                    blob)
            return WriteCount(sent, sent)

        return send

    def _node_ids_of(self, heads: list[str], tails: list[str], labels: tuple[Label, Label]
                     ) -> tuple[pa.Array, pa.Array]:
        """Internal node ids of each head and tail (of the `labels`), null where there is no such node."""
        head_ids, tail_ids = self._lookup(labels[0], set(heads)), self._lookup(labels[1], set(tails))
        return (pa.array([head_ids.get(h) for h in heads], pa.int64()),
                pa.array([tail_ids.get(t) for t in tails], pa.int64()))

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

    def _forget(self, heads: list[str], tails: list[str], labels: tuple[Label, Label]) -> None:
        for head in heads:
            self._node_ids[labels[0]].pop(head, None)
        for tail_id in tails:
            self._node_ids[labels[1]].pop(tail_id, None)

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

    def begin_load(self) -> bool:
        """Hold the graph for this load (waiting for another load's turn); True for a first load.

        FalkorDB runs one write query per graph at a time, so loads taking turns lose nothing,
        and a first load's `prepare_create` (which does not look for existing edges) must
        not race another load's MERGE of the same relation. The hold is a lease key beside
        the graph, renewed by every write; a load that dies frees the graph `lease_s` later.

        A first load (no relationships yet) also builds the relationship indexes once at its
        end: keeping FalkorDB's relationship id index up to date row by row cost more server
        time per relation the larger the graph grew (at 1M relations, 35 rising to 110 µs a
        row, against 21-26 µs without the index), while building it over the loaded graph
        takes about 9 µs a relation. MERGE does not need it: both endpoints are bound, so an
        existing relationship is found among the edges between them.
        """
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        waited_since = last_log = time.monotonic()
        while not self._db.connection.set(self._lease_key, token, nx=True, px=int(self._lease_s * 1000)):
            if time.monotonic() - last_log >= INDEX_LOG_S:
                holder = self._db.connection.get(self._lease_key)
                log.info("%s: waited %.0f s for another load to end (held by %s; a load that died "
                         "frees it %.0f s after its last write)", self.name,
                         time.monotonic() - waited_since, holder or "nobody now", self._lease_s)
                last_log = time.monotonic()
            time.sleep(LEASE_POLL_S)
        self._lease_token = token
        first = not self._read(cypher.ANY_RELATIONSHIP, {})
        if first:
            for cache in self._node_ids.values():
                cache.clear()
        return first

    def end_load(self) -> None:
        """Free the graph for other loads."""
        if self._lease_token is not None and self._db is not None:
            self._db.connection.eval(RELEASE_LEASE, 1, self._lease_key, self._lease_token)
        self._lease_token = None

    def _renew_lease(self) -> None:
        """Extend this load's hold on the graph (no-op outside a load).

        Raises:
            GraphBusy: the lease ran out (the load stalled for `lease_s`) and may be another
                load's now; writing on could race it.
        """
        if self._lease_token is None:
            return
        if not self._db.connection.eval(RENEW_LEASE, 1, self._lease_key, self._lease_token,
                                        int(self._lease_s * 1000)):
            self._lease_token = None
            raise GraphBusy(self.name, f"this load's hold on the graph lapsed (no write for "
                            f"{self._lease_s:.0f} s) and another load may hold it now; run the load "
                            "again to resume")

    def await_indexes(self) -> None:
        """Poll `db.indexes()` until no index is still being populated.

        FalkorDB builds indexes in the background; progress is logged every `INDEX_LOG_S` seconds.
        """
        started = last_log = time.monotonic()
        while True:
            self._renew_lease()  # a long build must not cost a load its hold on the graph
            pending = [row["label"] for row in self._read(cypher.INDEX_STATES, {})
                       if row["status"] != "OPERATIONAL"]
            if not pending:
                return
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
