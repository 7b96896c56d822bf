"""CTR evaluation: metrics, and the whole step on a tiny MovieLens-shaped dataset."""

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.config import CtrSection
from pipelines.ctr_step import ctr_step
from serving.ctr.train import auc, logloss
from serving.export import EmbeddingTable, ModelInfo, write_export


def test_auc_counts_ties_as_half_and_logloss_is_bce() -> None:
    assert auc(np.array([0, 1, 0, 1.0]), np.array([0.1, 0.9, 0.2, 0.8])) == 1.0
    assert auc(np.array([0, 1.0]), np.array([0.5, 0.5])) == 0.5
    assert auc(np.array([1, 0, 1, 0.0]), np.array([0.3, 0.3, 0.9, 0.1])) == 0.875
    assert logloss(np.array([1.0]), np.array([0.5])) == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match="both positive and negative"):
        auc(np.array([1.0, 1.0]), np.array([0.1, 0.2]))


def _tiny_movielens(root: Path) -> None:
    """40 users x 30 movies; users like movies of their own parity; one rating every minute."""
    rng = np.random.default_rng(0)
    rows = [(u, int(m), 4.5 if (u + m) % 2 == 0 else 2.0, 1_600_000_000 + 60 * n)
            for n, (u, m) in enumerate((u, m) for u in range(40) for m in rng.choice(30, 12, replace=False))]
    pl.DataFrame(rows, schema=["userId", "movieId", "rating", "timestamp"], orient="row").sample(
        fraction=1.0, shuffle=True, seed=1).write_csv(root / "ratings.csv")
    pl.DataFrame({"movieId": range(30), "title": [f"Movie {m} ({1990 + m})" for m in range(30)],
                  "genres": ["Drama|Comedy" if m % 2 else "Action" for m in range(30)]}).write_csv(
        root / "movies.csv")


def test_ctr_step_trains_every_model_arm_and_seed(tmp_path: Path) -> None:
    _tiny_movielens(tmp_path)
    parity = np.array([[1.0, 0.0] if m % 2 == 0 else [0.0, 1.0] for m in range(30)], np.float32)
    export = write_export(
        tmp_path / "exports", "v1",
        EmbeddingTable([str(u) for u in range(40)], np.eye(2, dtype=np.float32)[np.arange(40) % 2]),
        EmbeddingTable([str(m) for m in range(30)], parity),
        model=ModelInfo(name="parity", hash="x", baseline=True), as_of=datetime(2020, 1, 1, tzinfo=UTC),
        item_text=np.random.default_rng(0).normal(size=(30, 8)).astype(np.float32))
    settings = CtrSection(movielens_dir=tmp_path, epochs=1, batch_size=64, history_length=4)
    report, table = ctr_step(settings, "movielens", export, tmp_path / "out")
    assert table.count("| DeepFM |") == 3 and table.count("| DIN |") == 3
    assert "+kgrec" in table and "AUC lift vs ids" in table
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [len(runs) for arms in results.values() for runs in arms.values()] == [3] * 6
    assert (tmp_path / "out" / "_SUCCESS.json").exists()
    assert (tmp_path / "out" / "fuxictr" / "item_text.npz").exists()
    assert report.details["embeddings_after_cutoff"] == "False"
    assert report.rows["train_samples"] + report.rows["test_samples"] == 480
