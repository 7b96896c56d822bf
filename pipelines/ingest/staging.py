"""The staged form every adapter produces: canonical columns plus why a row was refused.

Adapters turn raw chunks into *staged* tables: the canonical columns of their target table
(all nullable here), plus `_source`, `_row`, `_reason` (null for a good row) and `_raw` (the
source row as JSON text, only for refused rows); staged items also carry `_links`, the catalog
links a row names. The ingest job splits staged tables into the canonical table and the
quarantine, so no row can disappear between the two.

Every parse here is per value and never raises (casts are non-strict, timestamps try each
layout): a value that does not parse is null, and the adapter's checks turn that into the row's
reason. One bad value therefore refuses its row, never its batch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import polars as pl
import pyarrow as pa

from kg.arrow_schema import arrow_schema_of
from kg.schema import Event, Item, KgrecModel
from pipelines.config import TimeUnit
from pipelines.ingest.chunks import NESTED, ROW_COLUMN, ReadFailure

TableKind = Literal["events", "items"]
MODELS: dict[TableKind, type[KgrecModel]] = {"events": Event, "items": Item}
SOURCE, REASON, RAW, LINKS = "_source", "_reason", "_raw", "_links"
LINK_TYPE = pa.list_(pa.struct([("b", pa.string()), ("kind", pa.string())]))
# Times outside [1970, 2100) are refused: epochs of the wrong unit, sentinels, overflow.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
_EPOCH_LIMIT_S = 10**11  # |epoch| beyond this many seconds (year 5138) is clipped before converting
_UNIT_PER_S = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
# A price as catalogs write it: an optional currency sign or code, digits with optional
# thousands separators and decimals ("$1,234.50", "EUR 12", "12.99"); anything else is unknown.
_PRICE = r"^(?:[$€£¥]|[A-Z]{3})?\s*(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$"

# Timestamp text layouts tried in order; the first that parses wins, per value.
_AWARE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z")
_NAIVE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S",
                  "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%Y %H:%M",
                  "%d/%m/%Y %H:%M")


def staged_schema(kind: TableKind) -> pa.Schema:
    """Canonical fields, all nullable, then the bookkeeping columns."""
    canonical = [f.with_nullable(True) for f in arrow_schema_of(MODELS[kind])]
    links = [pa.field(LINKS, LINK_TYPE)] if kind == "items" else []
    return pa.schema([*canonical, pa.field(SOURCE, pa.string()), pa.field(ROW_COLUMN, pa.int64()),
                      pa.field(REASON, pa.string()), pa.field(RAW, pa.string()), *links])


def first_reason(*checks: tuple[pl.Expr, str | pl.Expr]) -> pl.Expr:
    """The message of the first failing check per row, else null. Checks are (failed, msg)."""
    expr: pl.Expr = pl.lit(None, pl.String)
    for failed, message in reversed(checks):
        value = pl.lit(message) if isinstance(message, str) else message
        expr = pl.when(failed.fill_null(False)).then(value).otherwise(expr)
    return expr.alias(REASON)


def _epoch(value: pl.Expr, unit: TimeUnit) -> pl.Expr:
    """Epoch integers -> Datetime(ms, UTC), clipped first so that no value overflows (and wraps)."""
    limit = _EPOCH_LIMIT_S * _UNIT_PER_S[unit]
    return pl.from_epoch(value.clip(-limit, limit), time_unit=unit).dt.replace_time_zone(
        "UTC").dt.cast_time_unit("ms")


def to_utc(column: str, dtype: pl.DataType, unit: TimeUnit, source_tz: str) -> pl.Expr:
    """Any timestamp representation -> Datetime(ms, UTC); unparseable values become null.

    Integers (and digit strings) are epochs in `unit`; naive text and naive datetimes are
    read in `source_tz`; text with an offset is honoured. Absurd epochs come out far outside
    [EARLIEST, LATEST), for `time_checks` to refuse.
    """
    col = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        aware = col if dtype.time_zone else col.dt.replace_time_zone(
            source_tz, ambiguous="earliest", non_existent="null")
        return aware.dt.convert_time_zone("UTC").dt.cast_time_unit("ms")
    if dtype.is_numeric():
        return _epoch(col.cast(pl.Int64, strict=False), unit)
    text = col.cast(pl.String).str.strip_chars().str.replace(r"[Zz]$", "+00:00")
    epoch = _epoch(text.str.extract(r"^(\d{9,19})$").cast(pl.Int64, strict=False), unit)
    with_offset = [text.str.to_datetime(f, strict=False, time_unit="ms", time_zone="UTC")
                   for f in _AWARE_FORMATS]
    naive = [text.str.to_datetime(f, strict=False, time_unit="ms").dt.replace_time_zone(
        source_tz, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")
        for f in _NAIVE_FORMATS]
    return pl.coalesce([epoch, *with_offset, *naive])


def shown(expr: pl.Expr, limit: int = 80) -> pl.Expr:
    """A source value as a reason quotes it: cut at `limit` characters (raw keeps it whole)."""
    return pl.when(expr.str.len_chars() > limit).then(expr.str.slice(0, limit - 3) + "...").otherwise(expr)


def time_checks(name: str) -> tuple[tuple[pl.Expr, str | pl.Expr], ...]:
    """Checks (for first_reason) of a time parsed into `ts` from source column `name`.

    Expects the source text in `_ts_text`: missing, unparseable, or outside [1970, 2100).
    """
    ts, text = pl.col("ts"), pl.col("_ts_text")
    return ((text.is_null(), f"missing {name}"),
            (ts.is_null(), pl.format(f"unparseable {name} '{{}}'", shown(text))),
            (~ts.is_between(pl.lit(EARLIEST), pl.lit(LATEST), closed="left"),
             pl.format(f"{name} outside 1970-2100 '{{}}'", shown(text))))


def nested_checks(raw: pl.DataFrame, *names: str) -> list[tuple[pl.Expr, str]]:
    """Checks that source columns meant to hold one value do not hold a JSON list or object."""
    if NESTED not in raw.columns:
        return []
    nested = raw.get_column(NESTED)  # a Series: the staged frame the checks run on lacks the column
    return [(pl.lit(nested.list.contains(name)), f"{name} is a JSON list or object, not a value")
            for name in names if name in raw.columns]


def number(expr: pl.Expr) -> pl.Expr:
    """Text or numbers -> Float64; what is not a finite number (text, NaN, infinity) is null."""
    value = expr.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value)


def price(expr: pl.Expr) -> pl.Expr:
    """A price as catalogs write it ("$1,234.50", "12.99", 12.99) -> Float64, else null."""
    text = expr.cast(pl.String).str.strip_chars()
    return number(pl.when(text.str.contains(_PRICE)).then(text.str.replace_all(r"[^0-9.]", "")))


def column(raw: pl.DataFrame, name: str) -> pl.Expr:
    """The source column `name`, or a null text column when the source has none."""
    return pl.col(name) if name in raw.columns else pl.lit(None, pl.String)


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Text with surrounding space removed; empty text counts as missing."""
    stripped = expr.cast(pl.String).str.strip_chars()
    return pl.when(stripped.str.len_chars() > 0).then(stripped).otherwise(None)


def finish(staged: pl.DataFrame, raw: pl.DataFrame, source: str, kind: TableKind) -> pa.Table:
    """Attach bookkeeping columns and conform to the staged schema.

    `staged` holds canonical columns and `_reason`, row-aligned with `raw` (which still has
    `_row`); refused rows get their raw source row as JSON.
    """
    frame = staged.with_columns(
        _refuse_nul(staged, kind),
        pl.lit(source).alias(SOURCE),
        raw.get_column(ROW_COLUMN).alias(ROW_COLUMN),
    )
    frame = frame.with_columns(pl.when(pl.col(REASON).is_not_null()).then(row_json(raw)).alias(RAW))
    table = frame.to_arrow()
    schema = staged_schema(kind)
    return pa.Table.from_arrays(
        [table.column(f.name).cast(f.type) if f.name in table.column_names
         else pa.nulls(table.num_rows, f.type) for f in schema],
        schema=schema,
    )


def row_json(raw: pl.DataFrame) -> pl.Series:
    """Each source row as JSON text (the reader's bookkeeping columns left out)."""
    source = raw.drop(ROW_COLUMN, NESTED, strict=False)
    if not source.width:
        return pl.Series(RAW, [""] * raw.height, pl.String)
    return source.select(pl.struct(pl.all()).struct.json_encode().alias(RAW)).to_series()


def _refuse_nul(staged: pl.DataFrame, kind: TableKind) -> pl.Expr:
    """The row's reason, or, for a row without one, the first canonical text holding a NUL.

    A NUL character is no part of any id or text; it marks a broken file (or a binary one).
    """
    texts = [f.name for f in arrow_schema_of(MODELS[kind]) if pa.types.is_string(f.type)
             and f.name in staged.columns]
    return first_reason((pl.col(REASON).is_not_null(), pl.col(REASON)),
                        *((pl.col(name).str.contains("\x00", literal=True), f"NUL character in {name}")
                          for name in texts))


def failures_table(failures: list[ReadFailure], kind: TableKind) -> pa.Table:
    """Read failures in staged form: canonical columns null, reason and raw text set."""
    schema = staged_schema(kind)
    rows = [{SOURCE: f.source, ROW_COLUMN: f.row_number, REASON: f.reason, RAW: f.raw}
            for f in failures]
    return pa.Table.from_pylist(rows, schema=schema)
