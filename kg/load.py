"""Idempotent, resumable loading of relation files into a GraphStore.

Input: a directory with `relations/` (Parquet, the `relations` table), and optionally
`items/` and `concepts/`. Relations are read in bounded batches. Each batch is validated
(pydantic) and written per type with UNWIND ... MERGE. A relation naming a missing item or
concept is skipped by the statement's MATCH; the write reports how many rows matched, and
when that falls short the loader looks up which endpoints are missing and refuses those rows,
so nothing is skipped silently. Refused rows go to `<in>/_load/quarantine/*.parquet` (one file
per batch that refused any) with the reason.

A batch that fails on a transient error (the store went away) is retried with exponential
backoff; when retries run out, the load stops with StoreUnavailable saying how far it got.
`<in>/_load/state.json` records finished batches, so the same command resumes where it
stopped; a batch re-sent after a crash is harmless, since relations count a run's evidence
once (`evidence_ids`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import shutil
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from pydantic import BaseModel, Field, ValidationError

from kg.errors import StoreUnavailable
from kg.schema import ITEM_RELATIONS, Concept, Relation, RelationType
from kg.store import ITEM_PARAMS, RELATION_ROWS, GraphStore, Row, WriteCount, relation_params

log = logging.getLogger("kgrec")
T = TypeVar("T")
STATE_DIR = "_load"


class RetryPolicy(BaseModel):
    """How long to keep trying a store that went away."""

    max_retries: int = 5
    backoff_s: float = 0.5


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


def with_retries(store: GraphStore, policy: RetryPolicy, what: str, call: Callable[[], T]) -> T:
    """Run `call`, retrying transient store errors with doubling delays.

    Both clients reconnect by themselves on the next call once the server is back, so a
    retry is just the same call again (safe from several writer threads at once).

    Raises:
        StoreUnavailable: still failing after `policy.max_retries` retries.
    """
    delay = policy.backoff_s
    for attempt in range(policy.max_retries + 1):
        try:
            return call()
        except Exception as e:
            transient = isinstance(e, StoreUnavailable) or store.is_transient(e)
            if not transient:
                raise
            if attempt == policy.max_retries:
                raise StoreUnavailable(store.name, f"{what} failed after {attempt + 1} tries: {e}") from e
            log.warning("%s: %s failed (%s); retry %d/%d in %.1f s", store.name, what, e,
                        attempt + 1, policy.max_retries, delay)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _batches(directory: Path, batch_size: int) -> Iterator[pa.RecordBatch]:
    if not directory.exists() or not any(directory.glob("*.parquet")):
        return
    yield from pads.dataset(str(directory), format="parquet").to_batches(batch_size=batch_size)


def _fingerprint(store: GraphStore, in_dir: Path) -> str:
    files = sorted((str(p.relative_to(in_dir)), p.stat().st_size, p.stat().st_mtime_ns)
                   for p in (in_dir / "relations").glob("*.parquet"))
    return hashlib.sha256(json.dumps([store.identity, files]).encode()).hexdigest()[:16]


def _validate(rows: list[dict[str, Any]], first: int) -> tuple[list[tuple[int, Relation]], list[Row]]:
    """(row number, relation) for valid rows; quarantine rows for the others."""
    good: list[tuple[int, Relation]] = []
    bad: list[Row] = []
    for offset, row in enumerate(rows):
        try:
            good.append((first + offset, Relation.model_validate(row)))
        except ValidationError as e:
            problem = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
            bad.append({"row_number": first + offset, "reason": f"invalid relation: {problem}",
                        "raw": json.dumps(row, default=str)})
    return good, bad


def _unknown_endpoints(store: GraphStore, relations: list[tuple[int, Relation]],
                       policy: RetryPolicy) -> list[Row]:
    """Quarantine rows for relations naming an item or concept the graph lacks.

    Only asked when a write matched fewer rows than it was sent, so the common case (every
    endpoint exists) costs no extra query.
    """
    items = {r.head for _, r in relations} | {r.tail for _, r in relations if r.type in ITEM_RELATIONS}
    concepts = {r.tail for _, r in relations if r.type not in ITEM_RELATIONS}
    missing_items = with_retries(store, policy, "endpoint check",
                                 functools.partial(store.missing, "Item", sorted(items)))
    missing_concepts = with_retries(store, policy, "endpoint check",
                                    functools.partial(store.missing, "Concept", sorted(concepts)))
    refused = []
    for number, r in relations:
        tail_missing = r.tail in (missing_items if r.type in ITEM_RELATIONS else missing_concepts)
        if r.head in missing_items:
            refused.append({"row_number": number, "reason": f"unknown head item '{r.head}'",
                            "raw": r.model_dump_json()})
        elif tail_missing:
            refused.append({"row_number": number, "reason": f"unknown tail '{r.tail}'",
                            "raw": r.model_dump_json()})
    return refused


def _same_values(schema: pa.Schema, target: pa.Field) -> bool:
    """Whether casting `schema`'s column to `target` changes no value.

    True for the same type, and for other string types (polars writes large strings).
    """
    if target.name not in schema.names:
        return False
    found = schema.field(target.name).type
    strings = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    return bool(found == target.type or (target.type == pa.string() and any(is_(found) for is_ in strings)))


def _relation_rows(batch: pa.RecordBatch, first: int, valid: list[tuple[int, Relation]]) -> pa.Table:
    """The valid rows of `batch` as a `RELATION_ROWS` table.

    When the file's columns already have the model's types, the rows are taken from the batch
    as they are (pydantic passed them unchanged); otherwise they are rebuilt from what
    pydantic made of them, so coercions (an int where a float belongs, other time units)
    follow the model.
    """
    if all(_same_values(batch.schema, f) for f in RELATION_ROWS):
        table = pa.Table.from_batches([batch]).select(RELATION_ROWS.names)
        return table.take(pa.array([number - first for number, _ in valid], pa.int64())).cast(RELATION_ROWS)
    dumped = [{**r.model_dump(), "type": r.type.value} for _, r in valid]
    return pa.Table.from_pylist(dumped, schema=RELATION_ROWS)


def _write_relations(store: GraphStore, rows: pa.Table, policy: RetryPolicy, writers: int) -> WriteCount:
    """Write a batch (`RELATION_ROWS`), split across `writers` threads by head item.

    Each writer owns the relations of its heads, so no two writers create relationships on
    the same head node; rows are sorted by (type, head, tail) so any shared tail nodes are
    locked in the same order by everyone. (Neo4j's managed transactions also retry the
    deadlocks that remain possible on shared tails.)
    """
    if writers == 1:
        counts = [_write_partition(store, rows, policy)]
    else:
        owner = pa.array([zlib.crc32(head.encode()) % writers for head in rows.column("head").to_pylist()])
        partitions = [rows.filter(pc.equal(owner, n)) for n in range(writers)]
        with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="kgrec-writer") as pool:
            counts = list(pool.map(functools.partial(_write_partition, store, policy=policy), partitions))
    return WriteCount(sum(c.matched for c in counts), sum(c.written for c in counts))


def _write_partition(store: GraphStore, rows: pa.Table, policy: RetryPolicy) -> WriteCount:
    """One writer's rows, one statement per relation type, in (type, head, tail) order."""
    ordered = rows.sort_by([("type", "ascending"), ("head", "ascending"), ("tail", "ascending")])
    counts = []
    for value in pc.unique(ordered.column("type")).to_pylist():
        relation = RelationType(value)
        params = relation_params(ordered.filter(pc.equal(ordered.column("type"), value)))
        counts.append(with_retries(store, policy, f"write {relation.value}",
                                   functools.partial(store.upsert_relations, relation, params)))
    return WriteCount(sum(c.matched for c in counts), sum(c.written for c in counts))


def _item_rows(batch: pa.RecordBatch) -> pa.Table:
    """An items batch (`item_id` and any of title, category, brand) as an `ITEM_PARAMS` table."""
    columns = [batch.column("item_id")] + [
        batch.column(f.name) if f.name in batch.schema.names else pa.nulls(batch.num_rows, f.type)
        for f in list(ITEM_PARAMS)[1:]]
    return pa.Table.from_arrays(columns, names=ITEM_PARAMS.names).cast(ITEM_PARAMS)


def _load_nodes(store: GraphStore, in_dir: Path, batch_size: int, policy: RetryPolicy,
                report: LoadReport) -> list[Row]:
    """Items, then concepts (validated; refused concept rows are returned for the quarantine)."""
    for batch in _batches(in_dir / "items", batch_size):
        with_retries(store, policy, "write items", functools.partial(store.upsert_items, _item_rows(batch)))
        report.items += batch.num_rows
    refused: list[Row] = []
    for batch in _batches(in_dir / "concepts", batch_size):
        rows = []
        for number, raw in enumerate(batch.to_pylist(), start=report.concepts + len(refused)):
            try:
                rows.append(Concept.model_validate(raw).model_dump())
            except ValidationError as e:
                refused.append({"row_number": number, "reason": f"invalid concept: {e.errors()[0]['msg']}",
                                "raw": json.dumps(raw, default=str)})
        with_retries(store, policy, "write concepts", functools.partial(store.upsert_concepts, rows))
        report.concepts += len(rows)
    return refused


@dataclass
class _InFlight:
    """A batch whose relations are being written while the next batch is read and validated."""

    number: int
    rows: int
    valid: list[tuple[int, Relation]]
    invalid: list[Row]
    written: Future[WriteCount]


def _finish(store: GraphStore, batch: _InFlight, policy: RetryPolicy, quarantine_dir: Path,
            state_path: Path, fingerprint: str, report: LoadReport,
            progress: Callable[[int], None] | None) -> None:
    """Wait for a batch's write, quarantine its refusals, record it as done, report progress."""
    count = batch.written.result()
    report.relations_counted += count.written
    unknown = _unknown_endpoints(store, batch.valid, policy) if count.matched < len(batch.valid) else []
    # One file per batch, written before the batch is recorded as done: the state stays
    # small however many rows are refused, and a resume keeps earlier refusals.
    _write_quarantine(quarantine_dir / f"batch-{batch.number:06d}.parquet", batch.invalid + unknown)
    state_path.write_text(json.dumps({"fingerprint": fingerprint, "batches_done": batch.number + 1}))
    if progress:
        progress(batch.rows)


def load_directory(store: GraphStore, in_dir: Path, batch_size: int, policy: RetryPolicy,
                   progress: Callable[[int], None] | None = None, writers: int = 1) -> LoadReport:
    """Load `in_dir` into `store` with `writers` parallel writers; see the module docstring.

    Reading and validating a batch (client CPU) overlaps with writing the previous one (server
    time): one batch is in flight at a time, and batches are recorded as done in order, so a
    crash re-sends at most the batch that was in flight. Into a graph without relationships
    (a first load), stores that gain by it build the relationship indexes once at the end
    (`GraphStore.bulk_load_begins`) and the load returns when they are in use.
    """
    started = time.perf_counter()
    report = LoadReport()
    state_dir = in_dir / STATE_DIR
    state_dir.mkdir(exist_ok=True)
    state_path = state_dir / "state.json"
    fingerprint = _fingerprint(store, in_dir)
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    done = state.get("batches_done", 0) if state.get("fingerprint") == fingerprint else 0
    report.resumed_after_batch = done
    bulk = with_retries(store, policy, "graph check", store.bulk_load_begins)
    with_retries(store, policy, "schema setup",
                 functools.partial(store.ensure_schema, relation_indexes=not bulk))
    quarantine_dir = state_dir / "quarantine"
    if not done:  # a fresh load: refusals of an earlier, finished load no longer apply
        shutil.rmtree(quarantine_dir, ignore_errors=True)
    quarantine_dir.mkdir(exist_ok=True)
    _write_quarantine(quarantine_dir / "concepts.parquet",
                      _load_nodes(store, in_dir, batch_size, policy, report))
    finish = functools.partial(_finish, store, policy=policy, quarantine_dir=quarantine_dir,
                               state_path=state_path, fingerprint=fingerprint, report=report,
                               progress=progress)
    first = 0
    in_flight: _InFlight | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kgrec-load") as sender:
        for number, batch in enumerate(_batches(in_dir / "relations", batch_size)):
            report.relations_read += batch.num_rows
            report.batches = number + 1
            if number < done:  # finished before a crash: skipped, not even decoded
                first += batch.num_rows
                if progress:
                    progress(batch.num_rows)
                continue
            valid, invalid = _validate(batch.to_pylist(), first)
            table = _relation_rows(batch, first, valid)
            written = sender.submit(_write_relations, store, table, policy, writers)
            first += batch.num_rows
            if in_flight is not None:
                finish(in_flight)
            in_flight = _InFlight(number, batch.num_rows, valid, invalid, written)
        if in_flight is not None:
            finish(in_flight)
    if bulk:  # a crash before this leaves them to the next load's schema setup
        log.info("%s: building relationship indexes over the loaded graph", store.name)
        with_retries(store, policy, "relationship indexes", store.ensure_schema)
        with_retries(store, policy, "relationship indexes", store.await_indexes)
        report.relation_indexes_built_after = True
    report.quarantined = _quarantine_reasons(quarantine_dir)
    report.wall_s = round(time.perf_counter() - started, 3)
    return report


QUARANTINE_SCHEMA = pa.schema([("row_number", pa.int64()), ("reason", pa.string()), ("raw", pa.string())])


def _write_quarantine(path: Path, rows: list[Row]) -> None:
    """Refused rows of one batch (no file when none were refused)."""
    if rows:
        pq.write_table(pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA), path)


def _quarantine_reasons(quarantine_dir: Path) -> dict[str, int]:
    """Refused rows per reason, the reason cut before any quoted value or detail."""
    counts: dict[str, int] = {}
    for path in sorted(quarantine_dir.glob("*.parquet")):
        for reason in pq.read_table(path, columns=["reason"]).column("reason").to_pylist():
            key = reason.split(" '")[0].split(":")[0]
            counts[key] = counts.get(key, 0) + 1
    return counts
