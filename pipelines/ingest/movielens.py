"""MovieLens (GroupLens `ratings.csv` + `movies.csv`): ratings as events, titles and genres as items.

A rating of 4 or more is a `click` (the user liked the movie: the positive label of KAR's
MovieLens CTR task); a lower rating stays a `rating` event (seen, not liked). Timestamps are
epoch seconds. Items: `title` as given ("Toy Story (1995)"), `text` the title with its genres
("Toy Story (1995). Genres: Adventure, Animation"), `category` the first listed genre.
Set aside, each with its reason: missing ids, ratings outside 0.5-5, unparseable timestamps,
and movies without an id.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from pipelines.config import IngestSection
from pipelines.ingest.staging import (
    blank_to_null,
    column,
    finish,
    first_reason,
    number,
    shown,
    time_checks,
    to_utc,
)

CLICK_RATING = 4.0
NO_GENRES = "(no genres listed)"



def stage_events(raw: pl.DataFrame, source: str, settings: IngestSection) -> pa.Table:
    """One event per rating: `click` when rating >= 4, else `rating`."""
    rating = number(column(raw, "rating"))
    ts = (to_utc("timestamp", raw.schema["timestamp"], "s", "UTC")
          if "timestamp" in raw.columns else pl.lit(None, pl.Datetime("ms", "UTC")))
    frame = raw.select(
        blank_to_null(column(raw, "userId")).alias("user_id"),
        blank_to_null(column(raw, "movieId")).alias("item_id"),
        pl.when(rating >= CLICK_RATING).then(pl.lit("click")).otherwise(pl.lit("rating")).alias("event_type"),
        ts.alias("ts"),
        pl.lit(None, pl.String).alias("session_id"),
        pl.lit(None, pl.String).alias("query"),
        rating.alias("_rating"),
        column(raw, "rating").cast(pl.String).alias("_rating_text"),
        column(raw, "timestamp").cast(pl.String).alias("_ts_text"),
    ).with_columns(first_reason(
        (pl.col("user_id").is_null(), "missing userId"),
        (pl.col("item_id").is_null(), "missing movieId"),
        (pl.col("_rating_text").is_null(), "missing rating"),
        (pl.col("_rating").is_null() | (pl.col("_rating") < 0.5) | (pl.col("_rating") > 5),
         pl.format("rating out of 0.5-5 '{}'", shown(pl.col("_rating_text")))),
        *time_checks("timestamp"),
    )).drop("_rating", "_rating_text", "_ts_text")
    return finish(frame, raw, source, "events")


def stage_items(raw: pl.DataFrame, source: str, settings: IngestSection) -> pa.Table:
    """One item per movie line."""
    genres = blank_to_null(column(raw, "genres"))
    genres = pl.when(genres == NO_GENRES).then(None).otherwise(genres)
    title = blank_to_null(column(raw, "title"))
    frame = raw.select(
        blank_to_null(column(raw, "movieId")).alias("item_id"),
        title.alias("title"),
        pl.when(genres.is_null()).then(title)
        .otherwise(pl.format("{}. Genres: {}", title, genres.str.replace_all("|", ", ", literal=True)))
        .alias("text"),
        genres.str.split("|").list.first().alias("category"),
        pl.lit(None, pl.String).alias("brand"),
        pl.lit(None, pl.Float64).alias("price"),
    ).with_columns(first_reason((pl.col("item_id").is_null(), "missing movieId")))
    return finish(frame, raw, source, "items")
