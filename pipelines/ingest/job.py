"""`kgrec ingest`: raw files -> canonical events and items, and a quarantine, via Ray Data.

Plan: a dataset of input files, one read task per file; each task streams its file in
bounded chunks through the format's adapter into staged rows (canonical columns plus a
refusal reason). Staged rows are materialized once (spilling to disk if large), then
split into the canonical table and the quarantine. An increment (`since`) leaves unread
the Parquet files whose footers say every event in them is older (pipelines.ingest.pruning).
Items are merged per item_id across files (most frequent title/category/brand, longest
text, median price); formats whose
metadata lists related items (Amazon) also write `links/` (pipelines/ingest/links.py). Events
naming an item that the items table lacks are quarantined when an items table exists. A table
left without a single valid row stops the stage with `NoValidRows`, after its quarantine is
written.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kg.arrow_schema import arrow_schema_of, conform
from kg.errors import ConfigError, InputDataError, NoValidRows
from kg.schema import Event, Item, QuarantinedRow
from pipelines.config import IngestSection
from pipelines.ingest.adapters import ADAPTERS, Adapter
from pipelines.ingest.chunks import NESTED, ROW_COLUMN, Chunk, ReadFailure
from pipelines.ingest.generic import source_name
from pipelines.ingest.links import write_links
from pipelines.ingest.pruning import files_reaching
from pipelines.ingest.sources import file_format_of, list_files, read_chunks
from pipelines.ingest.staging import RAW, REASON, SOURCE, TableKind, failures_table
from pipelines.outputs import begin_stage, count_rows, mark_complete, write_dataset, write_table
from pipelines.ray_runtime import cluster_cpus, shuffle_partitions
from pipelines.report import StageReport, Timer

log = logging.getLogger("kgrec")
OUTPUTS = ("events", "items", "links", "quarantine")


def _stage_file(batch: dict[str, Any], kind: TableKind, settings: IngestSection,
                known_items: Any) -> Iterator[pa.Table]:
    """Ray UDF: read one file and yield staged tables (good and refused rows together)."""
    import ray

    adapter = ADAPTERS[settings.format]
    stage = adapter.stage_events if kind == "events" else adapter.stage_items
    known = ray.get(known_items) if known_items is not None else None
    # Items read from the events files: what cannot be read is quarantined once, by the events pass.
    keep_failures = kind == "events" or not adapter.items_from_events
    for path in batch["path"]:
        path = str(path)
        fmt = adapter.file_format or file_format_of(path)
        failures: list[ReadFailure] = []
        for part in read_chunks(path, fmt, settings.rows_per_batch):
            if isinstance(part, ReadFailure):
                failures.append(part)
                if len(failures) >= settings.rows_per_batch and keep_failures:  # bounded memory
                    yield failures_table(failures, kind)
                    failures = []
                continue
            staged = _stage_chunk(stage, part, settings, kind)
            yield _check_known(staged, known) if kind == "events" else staged
        if failures and keep_failures:
            yield failures_table(failures, kind)


def _stage_chunk(stage: Any, chunk: Chunk, settings: IngestSection, kind: TableKind) -> pa.Table:
    """Run the adapter; if it fails on the chunk as a whole, refuse the chunk's rows, not the job.

    Adapters parse value by value, so this is for what no row of the chunk can survive: a file
    that lacks the format's columns, or a Parquet column of a type no mapping takes.
    """
    try:
        raw = pl.from_arrow(chunk.table)
        assert isinstance(raw, pl.DataFrame)
        return stage(raw, chunk.source, settings)
    except (pl.exceptions.PolarsError, ValueError, pa.ArrowException) as e:
        reason = f"cannot map rows: {str(e).splitlines()[0]}"
        source = chunk.table.drop_columns([c for c in (ROW_COLUMN, NESTED) if c in chunk.table.column_names])
        texts = [json.dumps(row, default=str, ensure_ascii=False) for row in source.to_pylist()]
        numbers = chunk.table.column(ROW_COLUMN).to_pylist()
        return failures_table([ReadFailure(chunk.source, number, reason, text)
                               for number, text in zip(numbers, texts, strict=True)], kind)


def _check_known(staged: pa.Table, known: pa.Array | None) -> pa.Table:
    """Refuse good event rows whose item_id is not in the items table."""
    if known is None:
        return staged
    unknown = pc.and_(pc.is_null(staged.column(REASON)),
                      pc.invert(pc.is_in(staged.column("item_id"), value_set=known)))
    if not pc.any(unknown).as_py():
        return staged
    message = pc.binary_join_element_wise("unknown item_id '", staged.column("item_id"), "'", "")
    reasons = pc.if_else(unknown, message, staged.column(REASON))
    raw = pc.if_else(unknown, _row_json(staged), staged.column(RAW))
    staged = staged.set_column(staged.schema.get_field_index(REASON), REASON, reasons)
    return staged.set_column(staged.schema.get_field_index(RAW), RAW, raw)


def _row_json(staged: pa.Table) -> pa.Array:
    frame = pl.from_arrow(staged.select(arrow_schema_of(Event).names))
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.struct(pl.all()).struct.json_encode()).to_series().to_arrow()


def _good(batch: pa.Table, model: type[Event] | type[Item]) -> pa.Table:
    return conform(batch.filter(pc.is_null(batch.column(REASON))), model)


def _bad(batch: pa.Table, table: str) -> pa.Table:
    bad = batch.filter(pc.is_valid(batch.column(REASON)))
    return conform(pa.table({
        "source": bad.column(SOURCE), "row_number": bad.column(ROW_COLUMN),
        "table": pa.array([table] * bad.num_rows, pa.string()), "reason": bad.column(REASON),
        "raw": pc.fill_null(bad.column(RAW), ""),
    }), QuarantinedRow)


def consolidate_items(batch: pa.Table) -> pa.Table:
    """Merge item rows that share an item_id into one (all rows of an id are in the batch)."""
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)

    def mode(name: str) -> pl.Expr:
        return pl.col(name).drop_nulls().mode().sort().first().alias(name)

    merged = frame.group_by("item_id").agg(
        mode("title"), pl.col("text").sort_by(pl.col("text").str.len_chars()).last(),
        mode("category"), mode("brand"), pl.col("price").median(),
    ).sort("item_id")
    return conform(merged.to_arrow(), Item)


def _staged_dataset(files: list[str], kind: TableKind, settings: IngestSection,
                    known_items: Any = None) -> Any:
    import ray.data

    return ray.data.from_items([{"path": f} for f in files], override_num_blocks=len(files)).map_batches(
        _stage_file,  # type: ignore[arg-type]  # Ray's stub: one-argument UDFs; fn_kwargs fills the rest
        batch_size=1, batch_format="pyarrow",
        fn_kwargs={"kind": kind, "settings": settings, "known_items": known_items},
    ).materialize()


def _write_split(staged: Any, kind: TableKind, out_dir: Path,
                 since: datetime | None = None) -> tuple[Any, int]:
    """The valid rows (events at or after `since` only, when given) and the quarantined count."""
    from ray.data.expressions import col, lit

    model = Event if kind == "events" else Item
    good = staged.map_batches(_good, batch_format="pyarrow", fn_kwargs={"model": model})
    if kind == "events" and since is not None:
        good = good.filter(expr=col("ts") >= lit(since))
    bad_rows = write_dataset(
        staged.map_batches(_bad, batch_format="pyarrow", fn_kwargs={"table": kind}),
        out_dir / "quarantine" / kind,
    )
    return good, bad_rows


FLAGS = ("--events", "--items")
CONFIG_KEYS = ("ingest.events_path", "ingest.items_path")


def source_files(settings: IngestSection, names: tuple[str, str] = FLAGS) -> tuple[list[str], list[str]]:
    """The event and item files to read, checked before any work: there, not empty, of a known format.

    Cheap (file listings only), so commands call it before starting Ray. `names` say how the
    user gave the two paths (flags, or `CONFIG_KEYS` for `kgrec run`), for the message. A
    catalog alone (items, no events) is allowed; formats whose files join each other list their
    directory as events.

    Raises:
        ConfigError: neither path is set.
        InputDataError: a path is missing, holds no data files, or a file's format cannot be told.
    """
    if not settings.events_path and not settings.items_path:
        raise ConfigError("ingest.events_path is not set (use --events or KGREC_INGEST__EVENTS_PATH; "
                          "--items alone reads a catalog)")
    adapter = ADAPTERS.get(settings.format)
    if adapter is None:  # a table set: its directory's files are checked by its own reader
        return (list_files(settings.events_path) if settings.events_path else []), []
    events = _listed(settings.events_path, names[0], adapter) if settings.events_path else []
    if settings.items_path:
        return events, _listed(settings.items_path, names[1], adapter)
    return events, events if adapter.items_from_events else []


def _listed(path: str, name: str, adapter: Adapter) -> list[str]:
    try:
        files = list_files(path)
        if adapter.file_format is None:
            for file in files:
                file_format_of(file)
    except InputDataError as e:
        raise InputDataError(e.path, f"{e.reason} (given as {name})") from e
    return files


def run_ingest(settings: IngestSection, out_dir: Path, names: tuple[str, str] = FLAGS,
               since: datetime | None = None) -> StageReport:
    """Ingest `settings.events_path` and/or `items_path` into `out_dir`; see module docstring.

    Without an events path (a catalog alone, e.g. Amazon metadata for its links) the events
    table is written empty. With `since` (an incremental run) only events at or after it are
    written; the catalog is read whole.

    Raises:
        ConfigError: neither path is set.
        InputDataError: an input path holds no files.
        NoValidRows: the items or the events table would be empty (every row quarantined).
    """
    from pipelines.ingest.tableset_job import TABLE_SETS, run_table_set  # here: it imports this module

    if settings.format in TABLE_SETS:  # formats whose files join each other
        return run_table_set(settings, out_dir, since)
    timer = Timer()
    event_files, item_files = source_files(settings, names)
    to_read = _events_to_read(settings, event_files, since)
    if since is not None and event_files and not to_read:
        raise no_events_since(settings.events_path or "", since)  # before any work: every file ends earlier
    begin_stage(out_dir, "ingest")
    for name in OUTPUTS:  # a re-run replaces the output whole, tables a new input lacks included
        shutil.rmtree(out_dir / name, ignore_errors=True)
    log.info("ingest: %d event file(s), %d item file(s)", len(event_files), len(item_files))
    rows: dict[str, int] = {}
    known = _ingest_items(item_files, settings, out_dir, rows) if item_files else None
    if settings.events_path:
        checked = known if settings.check_item_ids and settings.items_path else None
        _ingest_events(to_read, settings, checked, out_dir, rows, since)
    else:
        rows["events"] = write_table(arrow_schema_of(Event).empty_table(), out_dir / "events")
        rows["quarantined_events"] = 0
    report = StageReport(name="ingest", rows=rows, bad_rows=quarantine_reasons(out_dir / "quarantine"),
                         wall_s=timer.elapsed(), outputs={"dir": str(out_dir)},
                         details={"event_files_left_unread": len(event_files) - len(to_read)})
    mark_complete(out_dir, report.model_dump())
    return report


def _events_to_read(settings: IngestSection, event_files: list[str], since: datetime | None) -> list[str]:
    """The event files to read: with `since`, those whose footers do not end before it."""
    adapter = ADAPTERS[settings.format]
    if since is None or not adapter.time_from_column:
        return event_files
    return files_reaching(event_files, since, source_name(settings, "ts"), settings.source_timezone,
                          adapter.file_format)


def _ingest_events(files: list[str], settings: IngestSection, known: Any, out_dir: Path,
                   rows: dict[str, int], since: datetime | None) -> None:
    """Write events (checked against `known` item ids, a Ray ref, unless None) and count them."""
    staged = _staged_dataset(files, "events", settings, known)
    good, rows["quarantined_events"] = _write_split(staged, "events", out_dir, since)
    rows["events"] = write_dataset(good, out_dir / "events")
    if not rows["events"] and since is not None:
        raise no_events_since(settings.events_path or "", since)
    if not rows["events"]:
        raise _no_valid_rows("events", settings.events_path or "", rows["quarantined_events"], out_dir)


def _ingest_items(files: list[str], settings: IngestSection, out_dir: Path, rows: dict[str, int]) -> Any:
    """Write items (and links) and count them into `rows`; return a Ray ref to the item ids.

    None when items come from the events files and none is valid: the events pass then names
    the same refused lines.
    """
    import ray

    adapter = ADAPTERS[settings.format]
    staged = _staged_dataset(files, "items", settings)
    good, rows["quarantined_items"] = _write_split(staged, "items", out_dir)
    rows["item_rows_read"] = good.count()
    if not rows["item_rows_read"]:
        if adapter.items_from_events:
            return None
        raise _no_valid_rows("items", settings.items_path or settings.events_path or "",
                             rows["quarantined_items"], out_dir)
    partitions = shuffle_partitions(rows["item_rows_read"], cluster_cpus())
    merged = good.repartition(partitions, keys=["item_id"]).map_batches(
        consolidate_items, batch_format="pyarrow", batch_size=None)
    rows["items"] = write_dataset(merged, out_dir / "items")
    ids = ray.put(pq.read_table(out_dir / "items", columns=["item_id"]).column("item_id").combine_chunks())
    if adapter.links:
        rows["links"] = write_links(staged, ids, out_dir / "links", partitions)
    return ids


def no_events_since(path: str, since: datetime) -> InputDataError:
    """The error of an increment that finds no new event."""
    return InputDataError(path, f"no valid event at or after --since {since.isoformat()}: nothing new to "
                          "add (pass an earlier --since, or wait for new events)")


def _no_valid_rows(table: TableKind, path: str, quarantined: int, out_dir: Path) -> NoValidRows:
    prefix = f"{table}: "
    counted = quarantine_reasons(out_dir / "quarantine")
    reasons = {reason.removeprefix(prefix): n for reason, n in counted.items() if reason.startswith(prefix)}
    return NoValidRows(path, table, quarantined, reasons, str(out_dir / "quarantine" / table))


def quarantine_reasons(quarantine_dir: Path) -> dict[str, int]:
    """Quarantined rows per reason, grouped by what precedes a reason's detail (": " or " '")."""
    counts: dict[str, int] = {}
    for table_dir in sorted(p for p in quarantine_dir.glob("*") if p.is_dir()):
        if count_rows(table_dir) == 0:
            continue
        grouped = (
            pl.scan_parquet(str(table_dir / "*.parquet"))
            .select(pl.col("reason").str.replace(r"(: | ').*$", "").alias("reason"))
            .group_by("reason").len().collect()
        )
        for reason, n in grouped.iter_rows():
            counts[f"{table_dir.name}: {reason}"] = int(n)
    return counts
