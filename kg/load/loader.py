"""Idempotent, resumable loading of relation files into a GraphStore.

Input: a directory with `relations/` (Parquet, the `relations` table), and optionally
`items/` and `concepts/`. Relations are read in bounded batches. Each batch is validated
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
from typing import TypeVar

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from pydantic import BaseModel, Field, ValidationError

from kg.arrow_schema import valid_mask
from kg.errors import StoreUnavailable
from kg.schema import ITEM_RELATIONS, Concept, Relation, RelationType
from kg.seen import SeenIds
from kg.store import ITEM_PARAMS, RELATION_ROWS, GraphStore, Row, WriteCount, now_ms, relation_params

log = logging.getLogger("kgrec")
T = TypeVar("T")
STATE_DIR = "_load"
NEW = "new"  # a batch column: the row's id is one a first load has not sent before


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
            if not _transient(store, e):
                raise
            if attempt == policy.max_retries:
                raise StoreUnavailable(store.name, f"{what} failed after {attempt + 1} tries: {e}") from e
            log.warning("%s: %s failed (%s); retry %d/%d in %.1f s", store.name, what, e,
                        attempt + 1, policy.max_retries, delay)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _transient(store: GraphStore, error: BaseException) -> bool:
    """Whether the same call may succeed later (the store went away, or says so)."""
    return isinstance(error, StoreUnavailable) or store.is_transient(error)


def _dataset(directory: Path) -> pads.Dataset | None:
    """The Parquet files of an input directory; None when it has none."""
    if not directory.exists() or not any(directory.glob("*.parquet")):
        return None
    return pads.dataset(str(directory), format="parquet")


def _batches(directory: Path, batch_size: int) -> Iterator[pa.RecordBatch]:
    if (dataset := _dataset(directory)) is not None:
        yield from dataset.to_batches(batch_size=batch_size)


def _row_count(directory: Path) -> int:
    """Rows in a directory's Parquet files, from their footers (no data is read)."""
    dataset = _dataset(directory)
    return 0 if dataset is None else int(dataset.count_rows())


def _fingerprint(store: GraphStore, in_dir: Path) -> str:
    files = sorted((str(p.relative_to(in_dir)), p.stat().st_size, p.stat().st_mtime_ns)
                   for p in (in_dir / "relations").glob("*.parquet"))
    return hashlib.sha256(json.dumps([store.identity, files]).encode()).hexdigest()[:16]


def _parse(row: Row) -> Relation | str:
    """The relation pydantic makes of a row, or why it refuses it."""
    try:
        return Relation.model_validate(row)
    except ValidationError as e:
        return "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())


def _refusal(number: int, row: Row, reason: str) -> Row:
    """A quarantine row: where the row was, why it was refused, and the row itself as JSON."""
    return {"row_number": number, "reason": reason, "raw": json.dumps(row, default=str)}


def _validate(batch: pa.RecordBatch, first: int) -> tuple[pa.Table, np.ndarray, list[Row]]:
    """The valid rows of `batch` (a `RELATION_ROWS` table), their row numbers, quarantine rows for the rest.

    When the file's columns have the model's types, whole columns are checked at once
    (`valid_mask`) and the valid rows are taken as they are; only rows the mask refuses go
    through pydantic, whose verdict and message stand. Otherwise every row goes through
    pydantic and the table is rebuilt from what it made of them, so coercions (an int where a
    float belongs, other time units) follow the model.
    """
    mask = valid_mask(batch, Relation)
    refused: list[Row] = []
    if mask is None:
        good: list[Row] = []
        numbers: list[int] = []
        for offset, row in enumerate(batch.to_pylist()):
            parsed = _parse(row)
            if isinstance(parsed, str):
                refused.append(_refusal(first + offset, row, f"invalid relation: {parsed}"))
            else:
                good.append({**parsed.model_dump(), "type": parsed.type.value})
                numbers.append(first + offset)
        return _storable(pa.Table.from_pylist(good, schema=RELATION_ROWS), np.array(numbers, dtype=np.int64),
                         refused)
    accepted = mask.to_numpy(zero_copy_only=False).copy()
    for suspect in np.flatnonzero(~accepted).tolist():
        row = batch.slice(suspect, 1).to_pylist()[0]
        parsed = _parse(row)
        if isinstance(parsed, str):
            refused.append(_refusal(first + suspect, row, f"invalid relation: {parsed}"))
        else:
            accepted[suspect] = True
    kept = np.flatnonzero(accepted)
    table = pa.Table.from_batches([batch]).select(RELATION_ROWS.names).take(kept).cast(RELATION_ROWS)
    return _storable(table, kept + first, refused)


def _storable(rows: pa.Table, numbers: np.ndarray, refused: list[Row],
              what: str = "relation") -> tuple[pa.Table, np.ndarray, list[Row]]:
    """Valid rows less those with a NUL character in a string, which go to `refused`.

    FalkorDB strings end at a NUL: the MERGE fails on one (the whole batch with it) and the
    bulk stream would misread every value after it. A NUL in an id or a text is corruption
    upstream, so no store is sent one.
    """
    has_nul = pa.array(np.zeros(rows.num_rows, dtype=bool))
    for field in rows.schema:
        if field.type == pa.string():
            found = pc.match_substring(rows.column(field.name), "\x00")
            has_nul = pc.or_(has_nul, pc.fill_null(found, False))
    if not pc.any(has_nul).as_py():
        return rows, numbers, refused
    for index in np.flatnonzero(has_nul.to_numpy(zero_copy_only=False)).tolist():
        row = rows.slice(index, 1).to_pylist()[0]
        refused.append(_refusal(int(numbers[index]), row, f"invalid {what}: {_nul_problem(row)}"))
    keep = pc.invert(has_nul)
    return rows.filter(keep), numbers[keep.to_numpy(zero_copy_only=False)], refused


def _nul_problem(row: Row) -> str | None:
    """Which fields of a row hold a NUL character (in a string or a list of strings), if any."""
    def holds_nul(value: object) -> bool:
        values = value if isinstance(value, list) else [value]
        return any(isinstance(v, str) and "\x00" in v for v in values)

    fields = [name for name, value in row.items() if holds_nul(value)]
    return f"{', '.join(fields)}: holds a NUL character" if fields else None


def _unknown_endpoints(store: GraphStore, rows: pa.Table, numbers: np.ndarray,
                       policy: RetryPolicy) -> list[Row]:
    """Quarantine rows for relations naming an item or concept the graph lacks.

    Only asked when a write matched fewer rows than it was sent, so the common case (every
    endpoint exists) costs no extra query.
    """
    relations = rows.to_pylist()
    item_types = {relation.value for relation in ITEM_RELATIONS}
    items = {r["head"] for r in relations} | {r["tail"] for r in relations if r["type"] in item_types}
    concepts = {r["tail"] for r in relations if r["type"] not in item_types}
    missing_items = with_retries(store, policy, "endpoint check",
                                 functools.partial(store.missing, "Item", sorted(items)))
    missing_concepts = with_retries(store, policy, "endpoint check",
                                    functools.partial(store.missing, "Concept", sorted(concepts)))
    refused = []
    for number, r in zip(numbers.tolist(), relations, strict=True):
        tail_missing = r["tail"] in (missing_items if r["type"] in item_types else missing_concepts)
        if r["head"] in missing_items:
            refused.append(_refusal(number, r, f"unknown head item '{r['head']}'"))
        elif tail_missing:
            refused.append(_refusal(number, r, f"unknown tail '{r['tail']}'"))
    return refused


@dataclass(frozen=True)
class _Write:
    """One statement of a batch, made ready to send (`GraphStore.prepare_*`)."""

    relation: RelationType
    rows: pa.Table  # RELATION_PARAMS
    create: bool
    send: Callable[[], WriteCount]


def _prepare(store: GraphStore, rows: pa.Table, policy: RetryPolicy, writers: int,
             now: int) -> list[list[_Write]]:
    """A batch (`RELATION_ROWS` and `NEW`) as statements ready to send, one list per writer.

    Rows are split by head item: each writer owns the relations of its heads, so no two
    writers create relationships on the same head node; rows are sorted by (type, head, tail)
    so any shared tail nodes are locked in the same order by everyone. (Neo4j's managed
    transactions also retry the deadlocks that remain possible on shared tails.)
    """
    if writers == 1:
        partitions = [rows]
    else:
        owner = pa.array([zlib.crc32(head.encode()) % writers for head in rows.column("head").to_pylist()])
        partitions = [rows.filter(pc.equal(owner, n)) for n in range(writers)]
    return [_prepare_partition(store, partition, policy, now) for partition in partitions]


def _prepare_partition(store: GraphStore, rows: pa.Table, policy: RetryPolicy, now: int) -> list[_Write]:
    """One writer's statements, a type at a time in (type, head, tail) order: new rows created, others MERGEd.

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
            this_round = of_type.filter(pc.equal(repeat, round_))
            new = this_round.column(NEW)
            for create, part in ((True, this_round.filter(new)), (False, this_round.filter(pc.invert(new)))):
                if part.num_rows:
                    params = relation_params(part.drop_columns([NEW]))
                    prepare = store.prepare_create if create else store.prepare_upsert
                    send = with_retries(store, policy, f"prepare {relation.value}",
                                        functools.partial(prepare, relation, params, now))
                    writes.append(_Write(relation, params, create, send))
    return writes


def _repeats(ids: pa.ChunkedArray) -> pa.Array:
    """For each id, how many times it came earlier in `ids` (0 for its first occurrence)."""
    if pc.count_distinct(ids).as_py() == len(ids):  # the usual case, at a tenth of the cost
        return pa.array(np.zeros(len(ids), dtype=np.int64))
    return pl.DataFrame({"id": pl.Series(ids)}).select(pl.int_range(pl.len()).over("id"))[:, 0].to_arrow()


def _send(store: GraphStore, partitions: list[list[_Write]], policy: RetryPolicy, now: int) -> WriteCount:
    """Send each writer's statements in order, the writers in parallel threads."""
    send = functools.partial(_send_partition, store, policy=policy, now=now)
    if len(partitions) == 1:
        counts = [send(partitions[0])]
    else:
        with ThreadPoolExecutor(max_workers=len(partitions), thread_name_prefix="kgrec-writer") as pool:
            counts = list(pool.map(send, partitions))
    return WriteCount(sum(c.matched for c in counts), sum(c.written for c in counts))


def _send_partition(store: GraphStore, writes: list[_Write], policy: RetryPolicy, now: int) -> WriteCount:
    """One writer's statements, in order: creates by `_create`, MERGEs retried as they are."""
    counts = []
    for write in writes:
        if write.create:
            counts.append(_create(store, write, policy, now))
        else:
            counts.append(with_retries(store, policy, f"write {write.relation.value}", write.send))
    return WriteCount(sum(c.matched for c in counts), sum(c.written for c in counts))


def _create(store: GraphStore, write: _Write, policy: RetryPolicy, now: int) -> WriteCount:
    """Send a prepared create; MERGE its rows instead when it fails on a transient error.

    Whether a create that got no answer went in is unknown; the MERGE is right either way,
    and with the same `now` it counts rows the create wrote as written.
    """
    try:
        return write.send()
    except Exception as e:
        if not _transient(store, e):
            raise
        log.warning("%s: creating %d %s relations failed (%s); sending them again as MERGE",
                    store.name, write.rows.num_rows, write.relation.value, e)
        return with_retries(store, policy, f"write {write.relation.value}",
                            functools.partial(store.upsert_relations, write.relation, write.rows, now))


def _item_rows(batch: pa.RecordBatch) -> pa.Table:
    """An items batch (`item_id` and any of title, category, brand) as an `ITEM_PARAMS` table."""
    columns = [batch.column("item_id")] + [
        batch.column(f.name) if f.name in batch.schema.names else pa.nulls(batch.num_rows, f.type)
        for f in list(ITEM_PARAMS)[1:]]
    return pa.Table.from_arrays(columns, names=ITEM_PARAMS.names).cast(ITEM_PARAMS)


def _load_nodes(store: GraphStore, in_dir: Path, batch_size: int, policy: RetryPolicy,
                report: LoadReport) -> list[Row]:
    """Items, then concepts; rows refused (no id, invalid, a NUL character) are returned to quarantine."""
    refused: list[Row] = []
    first = 0
    for batch in _batches(in_dir / "items", batch_size):
        items = _item_rows(batch)
        with_id = pc.is_valid(items.column("id"))
        for index in np.flatnonzero(pc.invert(with_id).to_numpy(zero_copy_only=False)).tolist():
            raw = batch.slice(index, 1).to_pylist()[0]
            refused.append(_refusal(first + index, raw, "invalid item: item_id: missing"))
        numbers = np.flatnonzero(with_id.to_numpy(zero_copy_only=False)) + first
        items, _, refused = _storable(items.filter(with_id), numbers, refused, "item")
        with_retries(store, policy, "write items", functools.partial(store.upsert_items, items))
        report.items += items.num_rows
        first += batch.num_rows
    first = 0
    for batch in _batches(in_dir / "concepts", batch_size):
        rows = []
        for number, raw in enumerate(batch.to_pylist(), start=first):
            try:
                concept = Concept.model_validate(raw).model_dump()
            except ValidationError as e:
                refused.append(_refusal(number, raw, f"invalid concept: {e.errors()[0]['msg']}"))
                continue
            if nul := _nul_problem(concept):
                refused.append(_refusal(number, raw, f"invalid concept: {nul}"))
            else:
                rows.append(concept)
        with_retries(store, policy, "write concepts", functools.partial(store.upsert_concepts, rows))
        report.concepts += len(rows)
        first += batch.num_rows
    return refused


@dataclass
class _InFlight:
    """A batch whose relations are being written while the next batch is read and validated."""

    number: int
    rows: int
    valid: pa.Table
    valid_numbers: np.ndarray
    invalid: list[Row]
    written: Future[WriteCount]


def _finish(store: GraphStore, batch: _InFlight, policy: RetryPolicy, quarantine_dir: Path,
            state_path: Path, fingerprint: str, report: LoadReport,
            progress: Callable[[int], None] | None) -> None:
    """Wait for a batch's write, quarantine its refusals, record it as done, report progress."""
    count = batch.written.result()
    report.relations_counted += count.written
    unknown = (_unknown_endpoints(store, batch.valid, batch.valid_numbers, policy)
               if count.matched < batch.valid.num_rows else [])
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
    crash re-sends at most the batch that was in flight. A first load (`GraphStore.begin_load`)
    creates the relations it has not sent before instead of MERGEing them (`SeenIds` tells
    them apart), builds the relationship indexes once at the end, and returns when they are
    in use.
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
    quarantine_dir = state_dir / "quarantine"
    first_load = with_retries(store, policy, "load start", store.begin_load)
    try:
        with_retries(store, policy, "schema setup",
                     functools.partial(store.ensure_schema, relation_indexes=not first_load))
        if not done:  # a fresh load: refusals of an earlier, finished load no longer apply
            shutil.rmtree(quarantine_dir, ignore_errors=True)
        quarantine_dir.mkdir(exist_ok=True)
        _write_quarantine(quarantine_dir / "nodes.parquet",
                          _load_nodes(store, in_dir, batch_size, policy, report))
        finish = functools.partial(_finish, store, policy=policy, quarantine_dir=quarantine_dir,
                                   state_path=state_path, fingerprint=fingerprint, report=report,
                                   progress=progress)
        seen = SeenIds(_row_count(in_dir / "relations")) if first_load else None
        _load_relations(store, in_dir, batch_size, policy, writers, done, seen, finish, report, progress)
        if first_load:  # a crash before this leaves them to the next load's schema setup
            log.info("%s: building relationship indexes over the loaded graph", store.name)
            with_retries(store, policy, "relationship indexes", store.ensure_schema)
            with_retries(store, policy, "relationship indexes", store.await_indexes)
            report.relation_indexes_built_after = True
    finally:
        try:
            store.end_load()
        except Exception as e:  # the hold lapses by itself; the load's own outcome matters more
            log.warning("%s: could not end the load cleanly (%s)", store.name, e)
    report.quarantined = _quarantine_reasons(quarantine_dir)
    report.wall_s = round(time.perf_counter() - started, 3)
    return report


def _load_relations(store: GraphStore, in_dir: Path, batch_size: int, policy: RetryPolicy, writers: int,
                    done: int, seen: SeenIds | None, finish: Callable[[_InFlight], None], report: LoadReport,
                    progress: Callable[[int], None] | None) -> None:
    """Validate batch after batch while the one before is written; skip the `done` ones.

    With `seen` (a first load), rows whose id the load has not sent before are marked `NEW`.
    """
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
            valid, numbers, invalid = _validate(batch, first)
            new = (seen.first_sightings(valid.column("id")) if seen is not None
                   else np.zeros(valid.num_rows, dtype=bool))
            now = now_ms()
            # Prepared here, while the sender writes the batch before (FalkorDB runs the writes
            # of a graph one at a time, so the client's share is what can overlap).
            prepared = _prepare(store, valid.append_column(NEW, pa.array(new)), policy, writers, now)
            written = sender.submit(_send, store, prepared, policy, now)
            first += batch.num_rows
            if in_flight is not None:
                finish(in_flight)
            in_flight = _InFlight(number, batch.num_rows, valid, numbers, invalid, written)
        if in_flight is not None:
            finish(in_flight)


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
