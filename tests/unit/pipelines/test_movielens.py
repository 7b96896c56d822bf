"""MovieLens mapping: ratings to click/rating events, movies to items with genre text."""

from datetime import UTC, datetime

import polars as pl

from pipelines.config import IngestSection
from pipelines.ingest import movielens
from pipelines.ingest.adapters import ADAPTERS
from pipelines.ingest.chunks import ROW_COLUMN
from pipelines.ingest.staging import REASON, staged_schema


def _raw(columns: dict[str, list[object]]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    return pl.DataFrame({**columns, ROW_COLUMN: list(range(n))}, strict=False)


def test_ratings_of_four_or_more_are_clicks_and_bad_rows_have_reasons() -> None:
    raw = _raw({"userId": [1, 1, 2, None, 3, 4], "movieId": [10, 20, 10, 10, 10, 10],
                "rating": [4.0, 3.5, 5.0, 4.0, 7.0, 4.0],
                "timestamp": [964982703, 964981247, 964982224, 1, 1, None]})
    table = movielens.stage_events(raw, "ratings.csv", IngestSection())
    assert table.schema == staged_schema("events")
    rows = table.to_pylist()
    assert [r["event_type"] for r in rows[:3]] == ["click", "rating", "click"]
    assert rows[0]["user_id"] == "1" and rows[0]["item_id"] == "10"
    assert rows[0]["ts"] == datetime(2000, 7, 30, 18, 45, 3, tzinfo=UTC)
    assert table.column(REASON).to_pylist() == [None, None, None, "missing userId",
                                                "rating out of 0.5-5 '7.0'", "missing timestamp"]


def test_movies_become_items_with_genre_text_and_first_genre_as_category() -> None:
    raw = _raw({"movieId": [1, 2, None], "title": ["Toy Story (1995)", "Nothing (2000)", "x"],
                "genres": ["Adventure|Animation", "(no genres listed)", "Drama"]})
    rows = movielens.stage_items(raw, "movies.csv", IngestSection()).to_pylist()
    assert rows[0]["text"] == "Toy Story (1995). Genres: Adventure, Animation"
    assert rows[0]["category"] == "Adventure"
    assert rows[1]["text"] == "Nothing (2000)" and rows[1]["category"] is None
    assert rows[2][REASON] == "missing movieId"


def test_registered_as_a_csv_format() -> None:
    adapter = ADAPTERS["movielens"]
    assert adapter.file_format == "csv" and adapter.stage_events is movielens.stage_events
