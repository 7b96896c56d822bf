"""Table-set formats (Instacart, RetailRocket) through `kgrec ingest` on a real local Ray cluster."""

from pathlib import Path

import polars as pl
import pytest

from kg.errors import InputDataError
from pipelines.config import IngestSection
from pipelines.ingest.job import run_ingest
from pipelines.outputs import MARKER
from tests._support import table_sets
from tests._support.data import shared_data

pytestmark = pytest.mark.usefixtures("ray_cluster")


def _quarantine(out: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(out / "quarantine" / table)


@pytest.mark.parametrize("fmt", ["instacart", "retailrocket"])
def test_fuzzed_directory_every_good_row_arrives_and_every_broken_one_is_quarantined(
        tmp_path: Path, fmt: str) -> None:
    expected = getattr(table_sets, fmt)(tmp_path / "raw", broken=1_500)
    out = tmp_path / "ingest"
    # Small batches: several chunks per file, so chunking cannot hide a row.
    report = run_ingest(IngestSection(format=fmt, events_path=str(tmp_path / "raw"), rows_per_batch=1_000), out)
    assert report.rows == {"events": expected.events, "items": expected.items,
                           "quarantined_events": expected.quarantined_events,
                           "quarantined_items": expected.quarantined_items}
    assert sum(report.bad_rows.values()) == expected.quarantined_events + expected.quarantined_items
    assert (out / MARKER).exists()
    events = pl.read_parquet(out / "events")
    assert events.null_count().select("user_id", "item_id", "event_type", "ts").sum_horizontal().item() == 0
    quarantined = pl.concat([_quarantine(out, "events"), _quarantine(out, "items")])
    assert quarantined.filter(pl.col("raw") == "").height <= 2  # only a whole unreadable file has no raw text
    if fmt == "retailrocket":
        items = pl.read_parquet(out / "items")
        assert dict(items.select("item_id", "category").iter_rows()) == expected.categories
    else:
        assert report.details == {"files_not_read": str(tmp_path / "raw" / "sample_submission.csv")}


@pytest.mark.shared_data
def test_instacart_sample_quarantines_the_lines_of_its_201_missing_orders(tmp_path: Path) -> None:
    source = shared_data("instacart_sample")
    report = run_ingest(IngestSection(format="instacart", events_path=str(source)), tmp_path)
    assert report.rows == {"events": 30_121, "items": 49_688, "quarantined_events": 2_169,
                           "quarantined_items": 0}
    assert report.bad_rows == {"events: unknown order_id": 2_169}
    quarantined = _quarantine(tmp_path, "events")
    assert quarantined["reason"].str.extract(r"'(\d+)'").n_unique() == 201
    assert quarantined["source"].unique().to_list() == [str(source / "order_products__prior.csv")]


def test_no_valid_event_is_a_clear_error_after_the_quarantine_is_written(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "events.csv").write_text("timestamp,visitorid,event,itemid,transactionid\nsoon,1,view,2,\n")
    (raw / "item_properties.csv").write_text("timestamp,itemid,property,value\n1435460400000,2,categoryid,1\n")
    (raw / "category_tree.csv").write_text("categoryid,parentid\n1,\n")
    with pytest.raises(InputDataError, match="no RetailRocket event is valid"):
        run_ingest(IngestSection(format="retailrocket", events_path=str(raw)), tmp_path / "out")
    assert _quarantine(tmp_path / "out", "events")["reason"].to_list() == ["timestamp is not an integer 'soon'"]
    assert not (tmp_path / "out" / MARKER).exists()
