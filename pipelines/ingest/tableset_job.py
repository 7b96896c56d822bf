"""`kgrec ingest` for table-set formats (Instacart, RetailRocket) on Ray Data.

Plan, from the format's `TableSet` (see `tableset.py`): one Ray task runs `prepare` on the small
files and puts the lookups in the object store; each large file is one read task streaming its
chunks through the part's staging function with the lookups (as the per-file job does with
the item ids); where a stream reduces per item, staged rows are shuffled by item_id and each
partition reduced at once. The staged rows `prepare` made itself join the stream, then the
job's own split writes the canonical table and the quarantine, so the outputs, report and
marker are those of `job.run_ingest`, which hands these formats over here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from kg.errors import InputDataError
from pipelines.config import IngestFormat, IngestSection
from pipelines.ingest import instacart, retailrocket
from pipelines.ingest.job import _write_split, no_events_since, quarantine_reasons
from pipelines.ingest.sources import list_files
from pipelines.ingest.staging import TableKind, staged_schema
from pipelines.ingest.tableset import KINDS, Prepared, TableSet, file_parts, padded, stage_file
from pipelines.outputs import begin_stage, mark_complete, write_dataset
from pipelines.ray_runtime import cluster_cpus
from pipelines.report import StageReport, Timer

log = logging.getLogger("kgrec")

TABLE_SETS: dict[IngestFormat, TableSet] = {
    "instacart": instacart.TABLE_SET,
    "retailrocket": retailrocket.TABLE_SET,
}


def _prepare(fmt: IngestFormat, parts: dict[str, list[str]], rows_per_batch: int) -> tuple[Any, ...]:
    """Ray task: the lookups, then the prepared staged events and items (in staged schema)."""
    prepared: Prepared = TABLE_SETS[fmt].prepare(parts, rows_per_batch)
    return prepared.lookups, *(
        padded(prepared.staged[kind], staged_schema(kind)) if kind in prepared.staged
        else staged_schema(kind).empty_table() for kind in KINDS)


def _stage_files(batch: dict[str, Any], fmt: IngestFormat, kind: TableKind, lookups: Any,
                 rows_per_batch: int) -> Iterator[pa.Table]:
    """Ray UDF: the staged tables of each file in the batch."""
    import ray

    stream = TABLE_SETS[fmt].streams[kind]
    tables = ray.get(lookups)
    for path in batch["path"]:
        yield from stage_file(stream, str(path), tables, rows_per_batch, kind)


def _reduce(batch: pa.Table, fmt: IngestFormat, kind: TableKind, lookups: Any) -> pa.Table:
    """Ray UDF: one partition of rows shuffled by item_id through the stream's reduce."""
    import ray

    reduce = TABLE_SETS[fmt].streams[kind].reduce
    assert reduce is not None
    return reduce(batch, ray.get(lookups))


def _staged(settings: IngestSection, kind: TableKind, files: list[str] | None, lookups: Any,
            prepared: Any) -> Any:
    """The table's staged rows: its stream's (reduced, if the stream reduces) and the prepared ones."""
    import ray.data

    own = ray.data.from_arrow_refs([prepared])
    if files is None:
        return own.materialize()
    fmt = settings.format
    stream = TABLE_SETS[fmt].streams[kind]
    streamed = ray.data.from_items([{"path": f} for f in files], override_num_blocks=len(files)).map_batches(
        _stage_files,  # type: ignore[arg-type]  # Ray's stub: one-argument UDFs; fn_kwargs fills the rest
        batch_size=1, batch_format="pyarrow",
        fn_kwargs={"fmt": fmt, "kind": kind, "lookups": lookups, "rows_per_batch": settings.rows_per_batch})
    if stream.reduce is not None:
        streamed = streamed.repartition(cluster_cpus(), keys=["item_id"]).map_batches(
            _reduce, batch_format="pyarrow", batch_size=None,  # type: ignore[arg-type]  # as above
            fn_kwargs={"fmt": fmt, "kind": kind, "lookups": lookups})
    return streamed.union(own).materialize()


def run_table_set(settings: IngestSection, out_dir: Path, since: datetime | None = None) -> StageReport:
    """Ingest a table-set format from `settings.events_path` (+ `items_path`) into `out_dir`.

    With `since`, only events at or after it are written (`pipelines.ingest.job.run_ingest`).

    Raises:
        InputDataError: a part of the format has no file, or no event survived (every row is
            in the quarantine, which is written first).
    """
    import ray

    timer = Timer()
    table_set = TABLE_SETS[settings.format]
    paths = list_files(str(settings.events_path))
    paths += list_files(settings.items_path) if settings.items_path else []
    parts, ignored = file_parts(table_set, paths)
    if ignored:
        log.warning("ingest: %s: not read (no %s part by that name): %s", settings.format, table_set.name,
                    ", ".join(ignored))
    begin_stage(out_dir, "ingest")
    refs: list[Any] = ray.remote(num_returns=3)(_prepare).remote(  # type: ignore[assignment]  # 3 refs
        settings.format, parts, settings.rows_per_batch)
    lookups, prepared = refs[0], refs[1:]
    rows: dict[str, int] = {}
    for kind, prepared_ref in zip(KINDS, prepared, strict=True):
        stream = table_set.streams.get(kind)
        staged = _staged(settings, kind, parts[stream.part] if stream else None, lookups, prepared_ref)
        good, rows[f"quarantined_{kind}"] = _write_split(staged, kind, out_dir, since)
        rows[kind] = write_dataset(good, out_dir / kind)
    reasons = quarantine_reasons(out_dir / "quarantine")
    if rows["events"] == 0 and since is not None:
        raise no_events_since(str(settings.events_path), since)
    if rows["events"] == 0:
        raise InputDataError(str(settings.events_path), f"no {table_set.name} event is valid: all "
                             f"{rows['quarantined_events']} refused rows are in {out_dir}/quarantine/events")
    report = StageReport(name="ingest", rows=rows, bad_rows=reasons, wall_s=timer.elapsed(),
                         outputs={"dir": str(out_dir)},
                         details={"files_not_read": ", ".join(ignored)} if ignored else {})
    mark_complete(out_dir, report.model_dump())
    return report
