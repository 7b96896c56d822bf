"""Generic tables (Parquet, CSV, JSON lines) whose columns map onto the canonical ones."""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from kg.schema import EventType
from pipelines.config import IngestSection
from pipelines.ingest.staging import (
    blank_to_null,
    column,
    finish,
    first_reason,
    nested_checks,
    price,
    shown,
    time_checks,
    to_utc,
)

EVENT_TYPES = [e.value for e in EventType]


def source_name(settings: IngestSection, canonical: str) -> str:
    """The source column that `ingest.columns` maps onto canonical column `canonical`."""
    return settings.columns.get(canonical, canonical)


def _column(raw: pl.DataFrame, settings: IngestSection, canonical: str) -> pl.Expr:
    """The mapped source column, or a null column when the source has none."""
    return column(raw, source_name(settings, canonical))


def normalize_query(expr: pl.Expr) -> pl.Expr:
    """Lower-case, trim, collapse inner whitespace; empty means no query."""
    text = expr.cast(pl.String).str.to_lowercase().str.replace_all(r"\s+", " ")
    return blank_to_null(text)


def stage_events(raw: pl.DataFrame, source: str, settings: IngestSection) -> pa.Table:
    """Map, type and check generic event rows. Reasons name the column and the bad value."""
    ts_name = source_name(settings, "ts")
    if ts_name in raw.columns:
        ts = to_utc(ts_name, raw.schema[ts_name], settings.ts_unit, settings.source_timezone)
    else:
        ts = pl.lit(None, pl.Datetime("ms", "UTC"))
    event_type_given = source_name(settings, "event_type") in raw.columns
    frame = raw.select(
        blank_to_null(_column(raw, settings, "user_id")).alias("user_id"),
        blank_to_null(_column(raw, settings, "item_id")).alias("item_id"),
        (blank_to_null(_column(raw, settings, "event_type")).str.to_lowercase()
         if event_type_given else pl.lit(settings.default_event_type.value)).alias("event_type"),
        ts.alias("ts"),
        _column(raw, settings, "ts").cast(pl.String).alias("_ts_text"),
        blank_to_null(_column(raw, settings, "session_id")).alias("session_id"),
        normalize_query(_column(raw, settings, "query")).alias("query"),
    )
    frame = frame.with_columns(first_reason(
        *nested_checks(raw, *(source_name(settings, name) for name in ("user_id", "item_id", "event_type",
                                                                         "ts", "session_id", "query"))),
        (pl.col("user_id").is_null(), "missing user_id"),
        (pl.col("item_id").is_null(), "missing item_id"),
        (pl.col("event_type").is_null(), "missing event_type"),
        (~pl.col("event_type").is_in(EVENT_TYPES),
         pl.format("unknown event_type '{}'", shown(pl.col("event_type")))),
        *time_checks("ts"),
    )).drop("_ts_text")
    return finish(frame, raw, source, "events")


def stage_items(raw: pl.DataFrame, source: str, settings: IngestSection) -> pa.Table:
    """Map and type generic item rows; a row without an item_id is refused."""
    names = ("item_id", "title", "text", "category", "brand")
    frame = raw.select(
        *(blank_to_null(_column(raw, settings, name)).alias(name) for name in names),
        price(_column(raw, settings, "price")).alias("price"),
    )
    frame = frame.with_columns(first_reason(
        *nested_checks(raw, *(source_name(settings, name) for name in (*names, "price"))),
        (pl.col("item_id").is_null(), "missing item_id")))
    return finish(frame, raw, source, "items")


