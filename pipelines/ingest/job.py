"""`kgrec ingest`: raw files -> canonical events and items, and a quarantine, via Ray Data.

Plan: a dataset of input files, one read task per file; each task streams its file in
bounded chunks through the format's adapter into staged rows (canonical columns plus a
refusal reason). Staged rows are materialized once (spilling to disk if large), then
split into the canonical table and the quarantine. Items are merged per item_id across
files (most frequent title/category/brand, longest text, median price). Events naming an
item that the items table lacks are quarantined when an items table exists.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kg.arrow_schema import arrow_schema_of, conform
from kg.errors import ConfigError, InputDataError
from kg.schema import Event, Item, QuarantinedRow
from pipelines.config import IngestSection
from pipelines.ingest.adapters import ADAPTERS, Adapter
from pipelines.ingest.sources import ROW_COLUMN, Chunk, ReadFailure, file_format_of, list_files, read_chunks
from pipelines.ingest.staging import RAW, REASON, SOURCE, TableKind, failures_table
from pipelines.outputs import begin_stage, count_rows, mark_complete, write_dataset
from pipelines.ray_runtime import cluster_cpus
from pipelines.report import StageReport, Timer

log = logging.getLogger("kgrec")


def _stage_file(batch: dict[str, Any], kind: TableKind, settings: IngestSection,
                known_items: Any) -> Iterator[pa.Table]:
    """Ray UDF: read one file and yield staged tables (good and refused rows together)."""
    import ray

    adapter = ADAPTERS[settings.format]
    stage = adapter.stage_events if kind == "events" else adapter.stage_items
    known = ray.get(known_items) if known_items is not None else None
    for path in batch["path"]:
        path = str(path)
        fmt = adapter.file_format or file_format_of(path)
        failures: list[ReadFailure] = []
        for part in read_chunks(path, fmt, settings.rows_per_batch):
            if isinstance(part, ReadFailure):
                failures.append(part)
                continue
            staged = _stage_chunk(stage, part, settings, kind)
            yield _check_known(staged, known) if kind == "events" else staged
        if failures:
            yield failures_table(failures, kind)


def _stage_chunk(stage: Any, chunk: Chunk, settings: IngestSection, kind: TableKind) -> pa.Table:
    """Run the adapter; if it fails on the chunk as a whole, refuse the chunk, not the job."""
    raw = pl.from_arrow(chunk.table)
    assert isinstance(raw, pl.DataFrame)
    try:
        return stage(raw, chunk.source, settings)
    except (pl.exceptions.PolarsError, ValueError, pa.ArrowException) as e:
        texts = raw.drop(ROW_COLUMN).select(pl.struct(pl.all()).struct.json_encode()).to_series()
        failures = [ReadFailure(chunk.source, number, f"cannot map rows: {e}", text)
                    for number, text in zip(raw.get_column(ROW_COLUMN), texts, strict=True)]
        return failures_table(failures, kind)


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


def _write_split(staged: Any, kind: TableKind, out_dir: Path) -> tuple[Any, int]:
    model = Event if kind == "events" else Item
    good = staged.map_batches(_good, batch_format="pyarrow", fn_kwargs={"model": model})
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
    user gave the two paths (flags, or `CONFIG_KEYS` for `kgrec run`), for the message.

    Raises:
        ConfigError: no events path is set.
        InputDataError: a path is missing, holds no data files, or a file's format cannot be told.
    """
    if not settings.events_path:
        raise ConfigError("ingest.events_path is not set (use --events or KGREC_INGEST__EVENTS_PATH)")
    adapter: Adapter = ADAPTERS[settings.format]
    events = _listed(settings.events_path, names[0], adapter)
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


def run_ingest(settings: IngestSection, out_dir: Path, names: tuple[str, str] = FLAGS) -> StageReport:
    """Ingest `settings.events_path` (and `items_path`) into `out_dir`; see module docstring."""
    import ray

    timer = Timer()
    event_files, item_files = source_files(settings, names)
    begin_stage(out_dir, "ingest")
    log.info("ingest: %d event file(s), %d item file(s)", len(event_files), len(item_files))
    rows: dict[str, int] = {}
    known_ref = None
    if item_files:
        staged_items = _staged_dataset(item_files, "items", settings)
        good_items, rows["quarantined_items"] = _write_split(staged_items, "items", out_dir)
        rows["item_rows_read"] = good_items.count()
        merged = good_items.repartition(cluster_cpus(), keys=["item_id"]).map_batches(
            consolidate_items, batch_format="pyarrow", batch_size=None)
        rows["items"] = write_dataset(merged, out_dir / "items")
        if settings.check_item_ids and settings.items_path:
            ids = pq.read_table(out_dir / "items", columns=["item_id"]).column("item_id")
            known_ref = ray.put(ids.combine_chunks())
    staged_events = _staged_dataset(event_files, "events", settings, known_ref)
    good_events, rows["quarantined_events"] = _write_split(staged_events, "events", out_dir)
    rows["events"] = write_dataset(good_events, out_dir / "events")
    reasons = quarantine_reasons(out_dir / "quarantine")
    report = StageReport(name="ingest", rows=rows, bad_rows=reasons, wall_s=timer.elapsed(),
                         outputs={"dir": str(out_dir)})
    mark_complete(out_dir, report.model_dump())
    return report


def quarantine_reasons(quarantine_dir: Path) -> dict[str, int]:
    """Quarantined rows per reason (reasons that embed a value are grouped by their prefix)."""
    counts: dict[str, int] = {}
    for table_dir in sorted(p for p in quarantine_dir.glob("*") if p.is_dir()):
        if count_rows(table_dir) == 0:
            continue
        grouped = (
            pl.scan_parquet(str(table_dir / "*.parquet"))
            .select(pl.col("reason").str.replace(r" '.*$", "").alias("reason"))
            .group_by("reason").len().collect()
        )
        for reason, n in grouped.iter_rows():
            counts[f"{table_dir.name}: {reason}"] = int(n)
    return counts
