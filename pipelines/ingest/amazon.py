"""Amazon review data (McAuley lab, 2018 format): product metadata and reviews.

Metadata lines (`asin`, `title`, `description` [list], `category` [list], `brand`,
`price` like "$12.99") become items; titles that are leftover HTML (the 2018 crawl has
some, e.g. '<span class="a-size-medium ...') are treated as missing. Review lines
(`reviewerID`, `asin`, `unixReviewTime`) become `review` events without sessions.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from pipelines.config import IngestSection
from pipelines.ingest.staging import blank_to_null, finish, first_reason, to_utc

_LIST_TEXT = pl.List(pl.String)


def _text_list(raw: pl.DataFrame, name: str, separator: str) -> pl.Expr:
    """A JSON-list column (kept as JSON text by the reader) joined into one string."""
    if name not in raw.columns:
        return pl.lit(None, pl.String)
    text = pl.col(name).cast(pl.String)
    joined = text.str.json_decode(_LIST_TEXT).list.eval(
        pl.element().str.strip_chars()).list.join(separator)
    as_list = text.str.starts_with("[")
    return blank_to_null(pl.when(as_list).then(joined).otherwise(text))


def _clean_title(expr: pl.Expr) -> pl.Expr:
    cleaned = blank_to_null(expr)
    return pl.when(cleaned.str.contains("<")).then(None).otherwise(cleaned)


def stage_items(raw: pl.DataFrame, source: str, settings: IngestSection) -> pa.Table:
    """One item per metadata line; duplicates of an asin are merged later."""
    def column(name: str) -> pl.Expr:
        return pl.col(name) if name in raw.columns else pl.lit(None, pl.String)

    frame = raw.select(
        blank_to_null(column("asin")).alias("item_id"),
        _clean_title(column("title")).alias("title"),
        _text_list(raw, "description", " ").alias("text"),
        _text_list(raw, "category", " > ").alias("category"),
        blank_to_null(column("brand")).alias("brand"),
        column("price").cast(pl.String).str.replace_all(r"[$,\s]", "")
        .cast(pl.Float64, strict=False).alias("price"),
    ).with_columns(first_reason((pl.col("item_id").is_null(), "missing asin")))
    return finish(frame, raw, source, "items")


def stage_events(raw: pl.DataFrame, source: str, settings: IngestSection) -> pa.Table:
    """One review event per review line."""
    def column(name: str) -> pl.Expr:
        return pl.col(name) if name in raw.columns else pl.lit(None, pl.String)

    ts = (to_utc("unixReviewTime", raw.schema["unixReviewTime"], "s", "UTC")
          if "unixReviewTime" in raw.columns else pl.lit(None, pl.Datetime("ms", "UTC")))
    frame = raw.select(
        blank_to_null(column("reviewerID")).alias("user_id"),
        blank_to_null(column("asin")).alias("item_id"),
        pl.lit("review").alias("event_type"),
        ts.alias("ts"),
        pl.lit(None, pl.String).alias("session_id"),
        pl.lit(None, pl.String).alias("query"),
        column("unixReviewTime").cast(pl.String).alias("_ts_text"),
    ).with_columns(first_reason(
        (pl.col("user_id").is_null(), "missing reviewerID"),
        (pl.col("item_id").is_null(), "missing asin"),
        (pl.col("_ts_text").is_null(), "missing unixReviewTime"),
        (pl.col("ts").is_null(), pl.format("unparseable unixReviewTime '{}'", pl.col("_ts_text"))),
    )).drop("_ts_text")
    return finish(frame, raw, source, "events")
