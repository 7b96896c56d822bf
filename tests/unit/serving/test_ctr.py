"""CTR evaluation: metrics, and the whole step on a tiny MovieLens-shaped dataset."""

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch

from pipelines.steps.ctr import ctr_step, load_dataset
from serving.ctr.config import CtrSection
from serving.ctr.data import CtrData, basket_samples, positive_lines
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
    report, table = ctr_step(settings, load_dataset(settings, "movielens"), [export], tmp_path / "out")
    assert table.count("| DeepFM |") == 3 and table.count("| DIN |") == 3
    assert "+kgrec" in table and "AUC lift vs ids" in table
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [len(runs) for arms in results.values() for runs in arms.values()] == [3] * 6
    assert (tmp_path / "out" / "_SUCCESS.json").exists()
    assert (tmp_path / "out" / "fuxictr" / "v1" / "item_text.npz").exists()
    assert report.details["embedding_versions"] == 1
    assert report.details["train_samples_without_embeddings"] == 0
    assert report.rows["train_samples"] + report.rows["test_samples"] == 480


def _ingest_output(root: Path, sessions: bool) -> Path:
    """A kgrec ingest output: 30 users buying 2 of 20 items a day for 10 days, views in between."""
    rows = []
    for day in range(10):
        for u in range(30):
            ts = datetime(2026, 1, 1 + day, 8, tzinfo=UTC).timestamp() + u
            session = f"s{day}-{u}" if sessions else None
            rows += [(f"u{u}", f"i{(u + day + k) % 20}", "purchase", ts + k, session) for k in range(2)]
            rows.append((f"u{u}", f"i{(u * 7) % 20}", "view", ts + 5, session))
    events = pl.DataFrame(rows, schema=["user_id", "item_id", "event_type", "ts", "session_id"], orient="row")
    (root / "events").mkdir(parents=True)
    (root / "items").mkdir()
    events.with_columns(pl.from_epoch(pl.col("ts").cast(pl.Int64), "s").dt.replace_time_zone("UTC")).write_parquet(
        root / "events" / "part-0.parquet")
    pl.DataFrame({"item_id": [f"i{i}" for i in range(20)], "title": [f"Item {i}" for i in range(20)],
                  "category": ["a" if i % 2 else "b" for i in range(20)]}).write_parquet(root / "items" / "part-0.parquet")
    return root


def _events_data(root: Path, settings: CtrSection) -> CtrData:
    """What the events step hands the CTR code: the canonical tables of an ingest output."""
    events, items = pl.read_parquet(root / "events"), pl.read_parquet(root / "items")
    return basket_samples("events", positive_lines(events, settings, str(root)), items, settings)


@pytest.mark.parametrize("sessions", [True, False], ids=["sessions", "user-days"])
def test_events_dataset_is_next_basket_from_positive_events(tmp_path: Path, sessions: bool) -> None:
    settings = CtrSection(max_baskets=100, negatives=2, history_length=4)
    data = _events_data(_ingest_output(tmp_path, sessions), settings)
    samples = len(data.train.label) + len(data.test.label)
    assert samples == 100 * 2 * 3  # latest 100 baskets of 2 purchases, 2 negatives each; views unused
    assert float(data.train.label.mean()) == pytest.approx(1 / 3, abs=0.02)
    assert data.cutoff > data.train_events["ts"].max()
    assert data.n_categories == 3 and data.item_text[0].startswith("Item ")
    assert (data.train.history[:, -1] > 0).mean() > 0.9  # earlier baskets are the users' history


def test_events_dataset_needs_a_finished_ingest_and_positive_events(tmp_path: Path) -> None:
    from kg.errors import ConfigError, InputDataError, StageOutputError

    root = _ingest_output(tmp_path / "ingest", sessions=True)
    with pytest.raises(StageOutputError, match="ingest output is incomplete"):
        load_dataset(CtrSection(), "events", root)
    with pytest.raises(ConfigError, match="--ingest"):
        load_dataset(CtrSection(), "events")
    with pytest.raises(InputDataError, match="ctr.positive_events"):
        _events_data(root, CtrSection(positive_events=["click"]))


def test_pretrained_tables_are_scaled_to_unit_mean_norm_and_zero_rows_stay_zero() -> None:
    from serving.ctr.models import FeatureEmbedding

    table = np.zeros((4, 3), np.float32)
    table[1:] = [[3, 4, 0], [0, 0, 10], [6, 8, 0]]  # norms 5, 10, 10: mean 25 / 3
    layer = FeatureEmbedding(4, 2, [table])
    scaled = layer.pretrained_0.numpy()
    assert torch.equal(layer(torch.tensor([[0, 3]]), torch.tensor([5])), layer(torch.tensor([[0, 3]]),
                                                                               torch.tensor([0])))
    assert np.linalg.norm(scaled[1:], axis=1).mean() == pytest.approx(1.0)
    assert not scaled[0].any() and scaled.dtype == np.float32
    assert np.allclose(2 * scaled[1], scaled[3])  # directions and relative sizes kept


def test_versioned_tables_are_read_at_each_samples_version() -> None:
    from serving.ctr.models import FeatureEmbedding

    versions = np.zeros((2, 3, 2), np.float32)
    versions[0, 1], versions[1, 1] = [1, 0], [0, 1]  # id 1 moves between the two exports
    layer = FeatureEmbedding(3, 4, [versions])
    with torch.no_grad():
        layer.ids.weight.zero_()
        layer.proj[0].weight.copy_(torch.eye(4, 2))
    out = layer(torch.tensor([[1, 0], [1, 1]]), torch.tensor([0, 1]))  # [batch 2, history 2, 4]
    scale = np.linalg.norm(versions, axis=-1)[versions.any(-1)].mean()
    assert torch.allclose(out[0, 0, :2], torch.tensor([1.0, 0]) / scale)
    assert torch.allclose(out[1, 0, :2], torch.tensor([0, 1.0]) / scale)
    assert torch.allclose(out[1, 1], out[1, 0]) and not out[0, 1].any()
    with pytest.raises(ValueError, match="4 rows for a vocabulary of 3"):
        FeatureEmbedding(3, 4, [np.zeros((4, 2), np.float32)])


def test_instacart_orders_are_the_baskets_and_products_the_items(tmp_path: Path) -> None:
    from tests._support import table_sets

    table_sets.instacart(tmp_path, broken=50)
    data = load_dataset(CtrSection(instacart_dir=tmp_path, max_baskets=100, negatives=2), "instacart")
    labels = np.concatenate([data.train.label, data.test.label])
    assert data.name == "instacart" and labels.sum() > 100
    assert len(labels) == 3 * labels.sum()  # two sampled negatives per bought product
    assert set(data.item_ids) <= {str(p) for p in range(1, 51)}
    assert data.n_categories > 1


def test_each_sample_reads_the_latest_export_made_strictly_before_it(tmp_path: Path) -> None:
    from dataclasses import replace

    from serving.ctr.versions import assign, export_times

    _tiny_movielens(tmp_path)
    data = load_dataset(CtrSection(movielens_dir=tmp_path, history_length=4), "movielens")
    times = export_times(data, 4)
    assert len(times) == 5 and times == sorted(times)
    micros = [int(t.timestamp() * 1_000_000) for t in times]
    assert micros[0] == data.train.ts.min() - 1 and micros[-1] == data.test.ts.min() - 1
    train, without = assign(data.train, times)  # version v reads export v - 1; 0 is none
    assert without == 0 and set(np.unique(train.version)) == {1, 2, 3, 4}
    assert (np.array(micros)[train.version - 1] < train.ts).all()  # never its own moment or later
    following = np.array(micros + [np.iinfo(np.int64).max])[train.version]
    assert (train.ts <= following).all()  # and the latest such export
    test, _ = assign(data.test, times)
    assert (test.version == 5).all()
    late, without = assign(replace(data.train), times[1:])  # the first quarter predates every export
    assert without == int((data.train.ts <= micros[1]).sum()) > 0 and without == (late.version == 0).sum()
    with pytest.raises(ValueError, match="ascending and distinct"):
        assign(data.train, times[::-1])


def test_dropout_drops_only_the_pretrained_part_and_only_in_training() -> None:
    from serving.ctr.models import FeatureEmbedding

    torch.manual_seed(0)  # dropout draws are random: fixed so the test is deterministic
    layer = FeatureEmbedding(3, 4, [np.ones((3, 2), np.float32)], dropout=0.999)
    index, version = torch.tensor([1, 2]), torch.tensor([0, 0])
    with torch.no_grad():
        ids_only = layer.ids(index)
        assert torch.equal(layer(index, version), ids_only)  # training: the pretrained part dropped
        layer.eval()
        assert not torch.equal(layer(index, version), ids_only)
