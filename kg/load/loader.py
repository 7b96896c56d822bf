"""Idempotent, resumable loading of relation files into a GraphStore.

Input: a directory with `items/` and `relations/` (Parquet, the `items` and `relations`
tables), and optionally `concepts/`; a directory without `items/` is refused before anything
is written (`require_graph_input`). Relations are read in bounded batches. Each batch is validated
against the pydantic model (a column at a time where the file has the model's types) and
written per type with UNWIND ... MERGE. A relation naming a missing item or concept is
skipped by the statement's MATCH; the write reports how many rows matched, and when that
falls short the loader looks up which endpoints are missing and refuses those rows, so
nothing is skipped silently. Refused rows go to `<in>/_load/quarantine/*.parquet` (one file
per batch that refused any) with the reason.

A first load, into a graph without relationships (`GraphStore.begin_load`), does not MERGE
what it knows is new: a relation id it has not sent before (`SeenIds`) is created through
`GraphStore.prepare_create` (FalkorDB: one GRAPH.BULK command per batch and type), and
the relationship indexes are built once at the end. Repeats of an id are MERGEd as always.

A batch that fails on a transient error (the store went away) is retried with exponential
backoff; when retries run out, the load stops with StoreUnavailable saying how far it got.
`<in>/_load/state.json` records finished batches, so the same command resumes where it
stopped; a batch re-sent after a crash is harmless, since relations count a run's evidence
once (`evidence_ids`).
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
import time
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, Field

from kg import cypher
from kg.cypher import Label
from kg.load.inputs import batches, fingerprint, require_graph_input, row_count
from kg.load.quarantine import quarantine_reasons, quarantine_row, write_quarantine
from kg.load.retry import RetryPolicy, is_transient, with_retries
from kg.load.validation import validate_concepts, validate_items, validate_relations
from kg.schema import RelationType, now_ms
from kg.seen import SeenIds
from kg.store import GraphStore, Row, WriteCount, relation_params

log = logging.getLogger("kgrec")
T = TypeVar("T")
STATE_DIR = "_load"
NEW = "new"  # a batch column: the row's id is one a first load has not sent before


class LoadReport(BaseModel):
    """What a load did."""

    items: int = 0
    concepts: int = 0
    relations_read: int = 0
    relations_counted: int = Field(default=0, description="Relations whose evidence this load added.")
    quarantined: dict[str, int] = Field(default_factory=dict)
    batches: int = 0
    resumed_after_batch: int = 0
    relation_indexes_built_after: bool = Field(
        default=False, description="The graph had no relationships: their indexes were built at the end.")
    wall_s: float = 0.0


@dataclass(frozen=True)
class _Write:
    """One statement of a batch, made ready to send (`GraphStore.prepare_*`)."""

    relation: RelationType
    rows: pa.Table  # RELATION_PARAMS
    create: bool
    send: Callable[[], WriteCount]


@dataclass
class _InFlight:
    """A batch whose relations are being written while the next batch is read and validated."""

    number: int
    rows: int
    valid: pa.Table
    valid_numbers: np.ndarray
    invalid: list[Row]
    written: Future[WriteCount]


class Loader:
    """One load of an input directory into a store; see the module docstring for the contract.

    The instance holds what stays the same for the whole load (the store, retry policy, batch
    size, writer count, progress callback, where state and quarantine live) and what the load
    learns as it goes (the report, the input's fingerprint, how many batches an earlier run
    finished), so its methods take only what varies per call: a batch, and the `now` its
    writes are stamped with.

    Threads: `_send` runs on a sender thread (and `writers` writer threads under it) and reads
    only the store and the policy; the report, the state file and the quarantine are touched
    only by the thread that called `run`. `run` may be called again: each call is one load,
    resuming where the state file says, with a report of its own.

    Args:
        store: the graph to load into, connected.
        in_dir: the input directory (`items/`, `relations/`, optionally `concepts/`); the
            load keeps its state and quarantine in `<in_dir>/_load/`.
        batch_size: rows per batch read, validated and written (the resume granularity).
        policy: how long to retry a store that went away.
        progress: called with the number of relation rows each batch finished (or skipped).
        writers: parallel writers per batch; relations are split among them by head item.
    """

    def __init__(self, store: GraphStore, in_dir: Path, batch_size: int, policy: RetryPolicy,
                 progress: Callable[[int], None] | None = None, writers: int = 1) -> None:
        self.store = store
        self.in_dir = in_dir
        self.batch_size = batch_size
        self.policy = policy
        self.progress = progress
        self.writers = writers
        self.state_dir = in_dir / STATE_DIR
        self.state_path = self.state_dir / "state.json"
        self.quarantine_dir = self.state_dir / "quarantine"
        self.report = LoadReport()
        self._fingerprint = ""
        self._done = 0  # batches an earlier run of the same input into the same store finished

    def run(self) -> LoadReport:
        """Load the input directory with `writers` parallel writers; what this load did.

        Reading and validating a batch (client CPU) overlaps with writing the previous one
        (server time): one batch is in flight at a time, and batches are recorded as done in
        order, so a crash re-sends at most the batch that was in flight. A first load
        (`GraphStore.begin_load`) creates the relations it has not sent before instead of
        MERGEing them (`SeenIds` tells them apart), builds the relationship indexes once at the
        end, and returns when they are in use.

        Raises:
            InputDataError: the input directory is no graph input (`require_graph_input`).
            StoreUnavailable: the store stayed away through the policy's retries; the state
                file says how far the load got, and the same call resumes from there.
            GraphBusy: the store's hold on the graph lapsed mid-load (FalkorDB); not retried,
                since another load may be writing; running the load again resumes.
        """
        started = time.perf_counter()
        require_graph_input(self.in_dir)
        self.report = LoadReport()
        self._resume()
        first_load = self._retry("load start", self.store.begin_load)
        try:
            self._load(first_load)
        finally:
            try:
                self.store.end_load()
            except Exception as e:  # the hold lapses by itself; the load's own outcome matters more
                log.warning("%s: could not end the load cleanly (%s)", self.store.name, e)
        self.report.quarantined = quarantine_reasons(self.quarantine_dir)
        self.report.wall_s = round(time.perf_counter() - started, 3)
        return self.report

    def _retry(self, what: str, call: Callable[[], T]) -> T:
        """`call` under this load's retry policy (`with_retries`)."""
        return with_retries(self.store, self.policy, what, call)

    def _resume(self) -> None:
        """Read the state file: how many batches an earlier load of this input finished."""
        self.state_dir.mkdir(exist_ok=True)
        self._fingerprint = fingerprint(self.store.identity, self.in_dir)
        state = json.loads(self.state_path.read_text()) if self.state_path.exists() else {}
        self._done = state.get("batches_done", 0) if state.get("fingerprint") == self._fingerprint else 0
        self.report.resumed_after_batch = self._done

    def _load(self, first_load: bool) -> None:
        """Schema, nodes, then relations; on a first load, the relationship indexes last."""
        self._retry("schema setup",
                    functools.partial(self.store.ensure_schema, relation_indexes=not first_load))
        if not self._done:  # a fresh load: refusals of an earlier, finished load no longer apply
            shutil.rmtree(self.quarantine_dir, ignore_errors=True)
        self.quarantine_dir.mkdir(exist_ok=True)
        write_quarantine(self.quarantine_dir / "nodes.parquet", self._load_nodes())
        self._load_relations(SeenIds(row_count(self.in_dir / "relations")) if first_load else None)
        if first_load:  # a crash before this leaves them to the next load's schema setup
            log.info("%s: building relationship indexes over the loaded graph", self.store.name)
            self._retry("relationship indexes", self.store.ensure_schema)
            self._retry("relationship indexes", self.store.await_indexes)
            self.report.relation_indexes_built_after = True

    def _load_nodes(self) -> list[Row]:
        """Items, then concepts; rows refused (no id, invalid, a NUL character) are returned to quarantine."""
        refused: list[Row] = []
        first = 0
        for batch in batches(self.in_dir / "items", self.batch_size):
            items, refused_items = validate_items(batch, first)
            refused += refused_items
            self._retry("write items", functools.partial(self.store.upsert_items, items))
            self.report.items += items.num_rows
            first += batch.num_rows
        first = 0
        for batch in batches(self.in_dir / "concepts", self.batch_size):
            concepts, refused_concepts = validate_concepts(batch, first)
            refused += refused_concepts
            self._retry("write concepts", functools.partial(self.store.upsert_concepts, concepts))
            self.report.concepts += len(concepts)
            first += batch.num_rows
        return refused

    def _load_relations(self, seen: SeenIds | None) -> None:
        """Validate batch after batch while the one before is written; skip those done before.

        With `seen` (a first load), rows whose id the load has not sent before are marked `NEW`.
        """
        first = 0
        in_flight: _InFlight | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kgrec-load") as sender:
            for number, batch in enumerate(batches(self.in_dir / "relations", self.batch_size)):
                self.report.relations_read += batch.num_rows
                self.report.batches = number + 1
                if number < self._done:  # finished before a crash: skipped, not even decoded
                    first += batch.num_rows
                    if self.progress:
                        self.progress(batch.num_rows)
                    continue
                submitted = self._submit(sender, number, batch, first, seen)
                first += batch.num_rows
                if in_flight is not None:
                    self._finish(in_flight)
                in_flight = submitted
            if in_flight is not None:
                self._finish(in_flight)

    def _submit(self, sender: ThreadPoolExecutor, number: int, batch: pa.RecordBatch, first: int,
                seen: SeenIds | None) -> _InFlight:
        """Validate and prepare a batch here, and hand its writes to the sender thread."""
        valid, numbers, invalid = validate_relations(batch, first)
        new = (seen.first_sightings(valid.column("id")) if seen is not None
               else np.zeros(valid.num_rows, dtype=bool))
        now = now_ms()
        # Prepared here, while the sender writes the batch before (FalkorDB runs the writes
        # of a graph one at a time, so the client's share is what can overlap).
        prepared = self._prepare(valid.append_column(NEW, pa.array(new)), now)
        written = sender.submit(self._send, prepared, now)
        return _InFlight(number, batch.num_rows, valid, numbers, invalid, written)

    def _finish(self, batch: _InFlight) -> None:
        """Wait for a batch's write, quarantine its refusals, record it as done, report progress."""
        count = batch.written.result()
        self.report.relations_counted += count.written
        unknown = (self._unknown_endpoints(batch.valid, batch.valid_numbers)
                   if count.matched < batch.valid.num_rows else [])
        # One file per batch, written before the batch is recorded as done: the state stays
        # small however many rows are refused, and a resume keeps earlier refusals.
        write_quarantine(self.quarantine_dir / f"batch-{batch.number:06d}.parquet", batch.invalid + unknown)
        state = {"fingerprint": self._fingerprint, "batches_done": batch.number + 1}
        self.state_path.write_text(json.dumps(state))
        if self.progress:
            self.progress(batch.rows)

    def _unknown_endpoints(self, rows: pa.Table, numbers: np.ndarray) -> list[Row]:
        """Quarantine rows for relations naming an item or concept the graph lacks.

        Only asked when a write matched fewer rows than it was sent, so the common case (every
        endpoint exists) costs no extra query.
        """
        relations = rows.to_pylist()
        ends = [(cypher.head_label(RelationType(r["type"])), cypher.tail_label(RelationType(r["type"])))
                for r in relations]
        wanted: dict[Label, set[str]] = {"Item": set(), "Concept": set()}
        for r, (head, tail) in zip(relations, ends, strict=True):
            wanted[head].add(r["head"])
            wanted[tail].add(r["tail"])
        missing = {label: self._retry("endpoint check",
                                      functools.partial(self.store.missing, label, sorted(ids)))
                   for label, ids in wanted.items()}
        refused = []
        for number, r, (head, tail) in zip(numbers.tolist(), relations, ends, strict=True):
            if r["head"] in missing[head]:
                refused.append(quarantine_row(number, r, f"unknown head {head.lower()} '{r['head']}'"))
            elif r["tail"] in missing[tail]:
                refused.append(quarantine_row(number, r, f"unknown tail '{r['tail']}'"))
        return refused

    def _prepare(self, rows: pa.Table, now: int) -> list[list[_Write]]:
        """A batch (`RELATION_ROWS` and `NEW`) as statements ready to send, one list per writer.

        Rows are split by head item: each writer owns the relations of its heads, so no two
        writers create relationships on the same head node; rows are sorted by (type, head, tail)
        so any shared tail nodes are locked in the same order by everyone. (Neo4j's managed
        transactions also retry the deadlocks that remain possible on shared tails.)
        """
        if self.writers == 1:
            partitions = [rows]
        else:
            owner = pa.array([zlib.crc32(head.encode()) % self.writers
                              for head in rows.column("head").to_pylist()])
            partitions = [rows.filter(pc.equal(owner, n)) for n in range(self.writers)]
        return [self._prepare_partition(partition, now) for partition in partitions]

    def _prepare_partition(self, rows: pa.Table, now: int) -> list[_Write]:
        """One writer's statements by type, in (type, head, tail) order: new rows created, others MERGEd.

        Rows repeating an id go in later statements, in input order (the sort is stable): within
        one statement the store would apply them in an order of its own, and the last evidence
        applied sets the relation's provenance. So the graph is the same whichever way a row is
        written, and a repeat of an id created in this batch finds it.
        """
        ordered = rows.sort_by([("type", "ascending"), ("head", "ascending"), ("tail", "ascending")])
        writes = []
        for value in pc.unique(ordered.column("type")).to_pylist():
            relation = RelationType(value)
            of_type = ordered.filter(pc.equal(ordered.column("type"), value))
            repeat = _repeats(of_type.column("id"))
            for round_ in range(pc.max(repeat).as_py() + 1):
                writes += self._prepare_round(relation, of_type.filter(pc.equal(repeat, round_)), now)
        return writes

    def _prepare_round(self, relation: RelationType, rows: pa.Table, now: int) -> list[_Write]:
        """Rows of one type, no id twice, as up to two statements: the `NEW` ones created, the rest MERGEd."""
        new = rows.column(NEW)
        writes = []
        for create, part in ((True, rows.filter(new)), (False, rows.filter(pc.invert(new)))):
            if part.num_rows:
                params = relation_params(part.drop_columns([NEW]))
                prepare = self.store.prepare_create if create else self.store.prepare_upsert
                send = self._retry(f"prepare {relation.value}",
                                   functools.partial(prepare, relation, params, now))
                writes.append(_Write(relation, params, create, send))
        return writes

    def _send(self, partitions: list[list[_Write]], now: int) -> WriteCount:
        """Send each writer's statements in order, the writers in parallel threads."""
        send = functools.partial(self._send_partition, now=now)
        if len(partitions) == 1:
            counts = [send(partitions[0])]
        else:
            with ThreadPoolExecutor(max_workers=len(partitions), thread_name_prefix="kgrec-writer") as pool:
                counts = list(pool.map(send, partitions))
        return _total(counts)

    def _send_partition(self, writes: list[_Write], now: int) -> WriteCount:
        """One writer's statements, in order: creates by `_create`, MERGEs retried as they are."""
        return _total([self._create(write, now) if write.create
                       else self._retry(f"write {write.relation.value}", write.send) for write in writes])

    def _create(self, write: _Write, now: int) -> WriteCount:
        """Send a prepared create; MERGE its rows instead when it fails on a transient error.

        Whether a create that got no answer went in is unknown; the MERGE is right either way,
        and with the same `now` it counts rows the create wrote as written.
        """
        try:
            return write.send()
        except Exception as e:
            if not is_transient(self.store, e):
                raise
            log.warning("%s: creating %d %s relations failed (%s); sending them again as MERGE",
                        self.store.name, write.rows.num_rows, write.relation.value, e)
            upsert = functools.partial(self.store.upsert_relations, write.relation, write.rows, now)
            return self._retry(f"write {write.relation.value}", upsert)


def load_directory(store: GraphStore, in_dir: Path, batch_size: int, policy: RetryPolicy,
                   progress: Callable[[int], None] | None = None, writers: int = 1) -> LoadReport:
    """Load `in_dir` into `store` with `writers` parallel writers; see `Loader` and the module docstring."""
    return Loader(store, in_dir, batch_size, policy, progress, writers).run()


def _total(counts: list[WriteCount]) -> WriteCount:
    return WriteCount(sum(c.matched for c in counts), sum(c.written for c in counts))


def _repeats(ids: pa.ChunkedArray) -> pa.Array:
    """For each id, how many times it came earlier in `ids` (0 for its first occurrence)."""
    if pc.count_distinct(ids).as_py() == len(ids):  # the usual case, at a tenth of the cost
        return pa.array(np.zeros(len(ids), dtype=np.int64))
    return pl.DataFrame({"id": pl.Series(ids)}).select(pl.int_range(pl.len()).over("id"))[:, 0].to_arrow()

