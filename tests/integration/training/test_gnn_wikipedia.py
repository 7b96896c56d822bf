"""The temporal model on a slice of the real JODIE Wikipedia stream (../shared/data)."""

from pathlib import Path

import polars as pl
import pytest

from gnn.config import GnnSection
from gnn.train import train
from tests._support.data import shared_data
from tests._support.gnn_data import write_snapshot

pytestmark = pytest.mark.shared_data


def test_baseline_learns_repeat_edits_on_a_wikipedia_slice(tmp_path: Path) -> None:
    raw = pl.read_csv(shared_data("jodie_wikipedia/wikipedia_uitl.csv"), n_rows=6000)
    (tmp_path / "ingest" / "events").mkdir(parents=True)
    raw.select(pl.format("u{}", "u").alias("user_id"), pl.format("p{}", "i").alias("item_id"),
               pl.lit("view").alias("event_type"),
               pl.from_epoch((pl.col("ts") * 1000).cast(pl.Int64), "ms").dt.replace_time_zone("UTC").alias("ts"),
               ).write_parquet(tmp_path / "ingest" / "events" / "part-0.parquet")
    snapshot = write_snapshot(tmp_path / "snap", items=4, groups=1)  # 4 catalog items beside the pages
    config = GnnSection(epochs=1, batch_size=200, lr=1e-3, threads=1, text_features=False, max_events=None)
    result = train(config, tmp_path / "ingest", snapshot, tmp_path / "model", baseline=True)
    assert result.rows["events"] == 6000 and result.rows["items"] == raw["i"].n_unique() + 4
    assert result.metrics["test"].events == 900
    assert result.metrics["test"].auc > 0.6  # editors return to the pages they edit
