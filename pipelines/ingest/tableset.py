"""Formats spread over files that join each other (Instacart, RetailRocket), described as data.

The per-file adapters (`adapters.py`) map each file on its own. These formats cannot: an
Instacart order line needs its order's user and time from orders.csv, a RetailRocket item its
latest category from two property logs and the category tree. A `TableSet` says which file
plays which part (by name), what is built once from the small files (`prepare`: lookup tables,
plus the staged rows it makes itself, such as a lookup file's refused rows), which large files
stream chunk by chunk through a staging function that sees the lookups, and how the streamed
rows of one item are reduced to one. Two runners execute one description:
`tableset_job.run_table_set` on Ray (the ingest job) and `stage_locally` here, in-process (the
CTR evaluation, tests).

Every file is read by `sources.read_chunks` (CSV line by line: a broken line is one refused row,
never a block), and every staged table keeps the ingest contract of `staging.py`: each source row is
good or refused with a reason and its raw text, so canonical rows plus quarantine add up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from kg.errors import InputDataError
from kg.schema import Event, Item
from pipelines.config import IngestSection
from pipelines.ingest.chunks import ROW_COLUMN, Chunk, ReadFailure
from pipelines.ingest.job import _bad, _good
from pipelines.ingest.job import _stage_chunk as stage_chunk
from pipelines.ingest.sources import read_chunks
from pipelines.ingest.staging import REASON, TableKind, failures_table, staged_schema

Lookups = dict[str, pa.Table]
KINDS: tuple[TableKind, ...] = ("events", "items")
_DEFAULTS = IngestSection()  # the job's chunk staging takes settings; table-set stages read none


@dataclass(frozen=True)
class Prepared:
    """What `prepare` builds once: lookups for the streams, and staged rows per table."""

    lookups: Lookups
    staged: dict[TableKind, pa.Table]


PrepareFn = Callable[[dict[str, list[str]], int], Prepared]  # (files by part, rows per batch)
StageFn = Callable[[pl.DataFrame, str, Lookups], pa.Table]  # (raw chunk with _row, source, lookups)
ReduceFn = Callable[[pa.Table, Lookups], pa.Table]  # every streamed row of some item_ids -> staged items


@dataclass(frozen=True)
class Stream:
    """Files of one part staged chunk by chunk into one table.

    `schema` is what `stage` returns: the table's staged schema, or that plus columns of the
    stream's own that `reduce` consumes. With `reduce`, all streamed rows of an item_id meet
    in one call, which returns staged rows of the table (refused rows passed through).
    """

    part: str
    stage: StageFn
    schema: pa.Schema
    reduce: ReduceFn | None = None


@dataclass(frozen=True)
class TableSet:
    """One multi-file format: its parts by file name, what is prepared, what streams."""

    name: str
    parts: dict[str, str]  # part -> regular expression the file name (less .gz) must match whole
    prepare: PrepareFn
    streams: dict[TableKind, Stream]
    single: frozenset[str] = field(default_factory=frozenset)  # parts that are one file (lookups)


def file_parts(table_set: TableSet, paths: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Files by part (sorted), and the files no part claims (to report, not read).

    Raises:
        InputDataError: a part has no file, or a single-file part has several.
    """
    parts: dict[str, list[str]] = {part: [] for part in table_set.parts}
    ignored: list[str] = []
    for path in sorted(set(paths)):
        name = path.rsplit("/", 1)[-1].lower().removesuffix(".gz")
        part = next((p for p, pattern in table_set.parts.items() if re.fullmatch(pattern, name)), None)
        (parts[part] if part else ignored).append(path)
    where = ", ".join(sorted({p.rsplit("/", 1)[0] for p in paths})) or "(no files)"
    for part, files in parts.items():
        if not files:
            raise InputDataError(where, f"no {table_set.name} {part} file (a name matching "
                                 f"'{table_set.parts[part]}')")
        if part in table_set.single and len(files) > 1:
            raise InputDataError(where, f"{table_set.name} needs one {part} file, found {files}")
    return parts, ignored


def read_table(path: str, rows_per_batch: int,
               columns: Sequence[str]) -> tuple[pl.DataFrame, list[ReadFailure]]:
    """A whole (lookup) file as text columns with `_row`, and the lines that could not be read.

    Raises:
        InputDataError: the file has rows but lacks one of `columns` (the header is wrong, so
            no row could be used).
    """
    frames: list[pl.DataFrame] = []
    failures: list[ReadFailure] = []
    for part in read_chunks(path, "csv", rows_per_batch):
        if isinstance(part, ReadFailure):
            failures.append(part)
        else:
            frames.append(as_frame(part.table))
    if not frames:
        return pl.DataFrame(schema={**{c: pl.String for c in columns}, ROW_COLUMN: pl.Int64}), failures
    raw = pl.concat(frames)
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise InputDataError(path, f"missing columns {missing} (has {raw.columns[:-1]})")
    return raw, failures


def refused(staged: pa.Table, failures: list[ReadFailure], kind: TableKind) -> pa.Table:
    """A lookup file's refused rows only (its good rows live on in a lookup), read failures too."""
    bad = staged.filter(pc.is_valid(staged.column(REASON)))
    return pa.concat_tables([bad, failures_table(failures, kind)])


def stage_file(stream: Stream, path: str, lookups: Lookups, rows_per_batch: int,
               kind: TableKind) -> Iterator[pa.Table]:
    """The staged tables of one streamed file: each chunk's rows, then its unreadable lines."""
    failures: list[ReadFailure] = []
    for part in read_chunks(path, "csv", rows_per_batch):
        if isinstance(part, ReadFailure):
            failures.append(part)
        else:
            yield _stage_chunk(stream, part, lookups, kind)
    if failures:
        yield padded(failures_table(failures, kind), stream.schema)


def _stage_chunk(stream: Stream, chunk: Chunk, lookups: Lookups, kind: TableKind) -> pa.Table:
    """The ingest job's chunk staging (a chunk the stage fails on as a whole is refused row by row)."""
    def stage(raw: pl.DataFrame, source: str, _: IngestSection) -> pa.Table:
        return stream.stage(raw, source, lookups)

    return padded(stage_chunk(stage, chunk, _DEFAULTS, kind), stream.schema)


def padded(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` in `schema`: its columns cast, the ones it lacks all null."""
    def column(f: pa.Field) -> pa.ChunkedArray | pa.Array:
        if f.name not in table.column_names:
            return pa.nulls(len(table), f.type)
        return table.column(f.name).cast(f.type)

    return pa.Table.from_arrays([column(f) for f in schema], schema=schema)


def stage_locally(table_set: TableSet, paths: Iterable[str],
                  rows_per_batch: int) -> dict[TableKind, pa.Table]:
    """The staged events and items of `paths`, in this process (what `run_table_set` makes on Ray)."""
    parts, _ = file_parts(table_set, paths)
    prepared = table_set.prepare(parts, rows_per_batch)
    staged: dict[TableKind, pa.Table] = {}
    for kind in KINDS:
        tables = [padded(prepared.staged[kind], staged_schema(kind))] if kind in prepared.staged else []
        stream = table_set.streams.get(kind)
        if stream is not None:
            streamed = pa.concat_tables([table for path in parts[stream.part] for table in stage_file(
                stream, path, prepared.lookups, rows_per_batch, kind)] or [stream.schema.empty_table()])
            tables.append(stream.reduce(streamed, prepared.lookups) if stream.reduce else streamed)
        staged[kind] = pa.concat_tables(tables or [staged_schema(kind).empty_table()])
    return staged


def split_locally(staged: dict[TableKind, pa.Table]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(events, items, quarantine) from `stage_locally`'s tables, as the ingest job writes them."""
    events, items = as_frame(_good(staged["events"], Event)), as_frame(_good(staged["items"], Item))
    quarantine = as_frame(pa.concat_tables([_bad(staged[kind], kind) for kind in KINDS]))
    return events, items, quarantine


def as_frame(table: pa.Table) -> pl.DataFrame:
    """`table` as a polars DataFrame (never a Series)."""
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame

