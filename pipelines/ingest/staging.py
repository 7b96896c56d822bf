"""The staged form every adapter produces: canonical columns plus why a row was refused.

Adapters turn raw chunks into *staged* tables: the canonical columns of their target table
(all nullable here), plus `_source`, `_row`, `_reason` (null for a good row) and `_raw` (the
source row as JSON text, only for refused rows). The ingest job splits staged tables into
the canonical table and the quarantine, so no row can disappear between the two.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
import pyarrow as pa

from kg.arrow_schema import arrow_schema_of
from kg.schema import Event, Item, KgrecModel
from pipelines.config import TimeUnit
from pipelines.ingest.chunks import ROW_COLUMN, ReadFailure

TableKind = Literal["events", "items"]
MODELS: dict[TableKind, type[KgrecModel]] = {"events": Event, "items": Item}
SOURCE, REASON, RAW = "_source", "_reason", "_raw"

# Timestamp text layouts tried in order; the first that parses wins, per value.
_AWARE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z")
_NAIVE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S",
                  "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%Y %H:%M",
                  "%d/%m/%Y %H:%M")


def staged_schema(kind: TableKind) -> pa.Schema:
    """Canonical fields, all nullable, then the bookkeeping columns."""
    canonical = [f.with_nullable(True) for f in arrow_schema_of(MODELS[kind])]
    return pa.schema([*canonical, pa.field(SOURCE, pa.string()), pa.field(ROW_COLUMN, pa.int64()),
                      pa.field(REASON, pa.string()), pa.field(RAW, pa.string())])


def first_reason(*checks: tuple[pl.Expr, str | pl.Expr]) -> pl.Expr:
    """The message of the first failing check per row, else null. Checks are (failed, msg)."""
    expr: pl.Expr = pl.lit(None, pl.String)
    for failed, message in reversed(checks):
        value = pl.lit(message) if isinstance(message, str) else message
        expr = pl.when(failed.fill_null(False)).then(value).otherwise(expr)
    return expr.alias(REASON)


def to_utc(column: str, dtype: pl.DataType, unit: TimeUnit, source_tz: str) -> pl.Expr:
    """Any timestamp representation -> Datetime(ms, UTC); unparseable values become null.

    Integers (and digit strings) are epochs in `unit`; naive text and naive datetimes are
    read in `source_tz`; text with an offset is honoured.
    """
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        aware = col if dtype.time_zone else col.dt.replace_time_zone(
            source_tz, ambiguous="earliest", non_existent="null")
        return aware.dt.convert_time_zone("UTC").dt.cast_time_unit("ms")
    if dtype.is_numeric():
        return pl.from_epoch(col.cast(pl.Int64, strict=False), time_unit=unit).dt.replace_time_zone(
            "UTC").dt.cast_time_unit("ms")
    text = col.cast(pl.String).str.strip_chars().str.replace(r"[Zz]$", "+00:00")
    epoch = pl.from_epoch(
        text.str.extract(r"^(\d{9,19})$").cast(pl.Int64, strict=False), time_unit=unit
    ).dt.replace_time_zone("UTC")
    with_offset = [text.str.to_datetime(f, strict=False, time_unit="ms", time_zone="UTC")
                   for f in _AWARE_FORMATS]
    naive = [text.str.to_datetime(f, strict=False, time_unit="ms").dt.replace_time_zone(
        source_tz, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")
        for f in _NAIVE_FORMATS]
    return pl.coalesce([epoch.dt.cast_time_unit("ms"), *with_offset, *naive])


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Text with surrounding space removed; empty text counts as missing."""
    stripped = expr.cast(pl.String).str.strip_chars()
    return pl.when(stripped.str.len_chars() > 0).then(stripped).otherwise(None)


def finish(staged: pl.DataFrame, raw: pl.DataFrame, source: str, kind: TableKind) -> pa.Table:
    """Attach bookkeeping columns and conform to the staged schema.

    `staged` holds canonical columns and `_reason`, row-aligned with `raw` (which still has
    `_row`); refused rows get their raw source row as JSON.
    """
    raw_json = raw.drop(ROW_COLUMN).select(
        pl.struct(pl.all()).struct.json_encode().alias(RAW)) if raw.width > 1 else pl.DataFrame(
        {RAW: [""] * raw.height})
    frame = staged.with_columns(
        pl.lit(source).alias(SOURCE),
        raw.get_column(ROW_COLUMN).alias(ROW_COLUMN),
        pl.when(pl.col(REASON).is_not_null()).then(raw_json.get_column(RAW)).otherwise(None)
        .alias(RAW),
    )
    table = frame.to_arrow()
    schema = staged_schema(kind)
    return pa.Table.from_arrays(
        [table.column(f.name).cast(f.type) if f.name in table.column_names
         else pa.nulls(table.num_rows, f.type) for f in schema],
        schema=schema,
    )


def failures_table(failures: list[ReadFailure], kind: TableKind) -> pa.Table:
    """Read failures in staged form: canonical columns null, reason and raw text set."""
    schema = staged_schema(kind)
    rows = [{SOURCE: f.source, ROW_COLUMN: f.row_number, REASON: f.reason, RAW: f.raw}
            for f in failures]
    return pa.Table.from_pylist(rows, schema=schema)
