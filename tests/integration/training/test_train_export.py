"""Training and export on a small learnable stream written as real files (seconds, no services)."""

import json
import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from gnn.config import GnnSection
from gnn.train import TrainResult, train
from kg.errors import ConfigError, InputDataError, StageOutputError
from pipelines.outputs import MARKER
from pipelines.steps.gnn import export_step, train_step
from serving.export import read_export
from tests._support.gnn_data import START, write_events, write_snapshot

RANDOM_MRR = float(np.mean([1 / r for r in range(1, 51)]))  # 49 negatives: expected MRR of chance


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gnn")
    write_events(root / "ingest", events=2000)
    write_snapshot(root / "snap")
    return root


def _config(root: Path, **overrides: object) -> GnnSection:
    settings: dict[str, object] = {"epochs": 3, "lr": 1e-2, "batch_size": 100, "threads": 1,
                                   "text_cache_dir": root / "text_cache", "knowledge": "both"}
    return GnnSection(**(settings | overrides))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained(root: Path) -> TrainResult:
    train_step(_config(root), root / "ingest", root / "snap", root / "model")
    return TrainResult.model_validate_json((root / "model" / "train.json").read_text())


def test_model_beats_random_on_a_learnable_stream(trained: TrainResult) -> None:
    test = trained.metrics["test"]
    assert test.events == 300
    assert test.auc > 0.6 and test.ap > 0.6
    assert test.mrr > 1.5 * RANDOM_MRR
    assert trained.rows["knowledge_edges"] == 80 and trained.rows["concepts"] == 4
    assert 1 <= trained.best_epoch <= len(trained.epochs) <= 3


def test_same_seed_same_model(root: Path, trained: TrainResult) -> None:
    again = train(_config(root), root / "ingest", root / "snap", root / "again")
    assert again.metrics == trained.metrics and again.model_hash == trained.model_hash
    first = torch.load(root / "model" / "model.pt")
    second = torch.load(root / "again" / "model.pt")
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_same_seed_same_model_at_two_threads(root: Path) -> None:
    """Deterministic kernels and seeded negatives: the thread count does not make runs differ."""
    runs = [train(_config(root, threads=2, epochs=1), root / "ingest", root / "snap", root / f"two-{i}")
            for i in range(2)]
    assert runs[0].model_hash == runs[1].model_hash and runs[0].metrics == runs[1].metrics
    assert runs[0].nondeterministic_ops == []


def test_warm_start_fine_tunes_the_previous_weights(root: Path, trained: TrainResult) -> None:
    tuned = train_step(_config(root, epochs=1), root / "ingest", root / "snap", root / "tuned",
                       warm_start=root / "model")
    result = TrainResult.model_validate_json((root / "tuned" / "train.json").read_text())
    assert result.warm_start == str(root / "model") and tuned.details["epochs"] == 1
    fresh = train(_config(root, epochs=1), root / "ingest", root / "snap", root / "fresh")
    assert result.model_hash != fresh.model_hash
    with pytest.raises(ConfigError, match="--warm-start .*does not fit"):
        train_step(_config(root, epochs=1, dim=32), root / "ingest", root / "snap", root / "bad",
                   warm_start=root / "model")


def test_export_writes_the_contract_and_never_overwrites(root: Path, trained: TrainResult) -> None:
    as_of = START + timedelta(days=40)
    report = export_step(_config(root), root / "model", as_of, root / "emb", "v1")
    version = root / "emb" / "v1"
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["format"] == "kgrec.embeddings/1" and manifest["version"] == "v1"
    assert manifest["dim"] == 100 and manifest["rows"] == {"users": 60, "items": 40} == report.rows
    assert manifest["model"] == {"name": "tgn-kg-both", "hash": trained.model_hash, "baseline": False}
    assert set(manifest["metrics"]) == {"val", "test"} and set(manifest["metrics"]["test"]) == {"ap", "auc", "mrr"}
    assert manifest["files"]["item_text"] == "item_text.npy"
    users = pq.read_table(version / "users.parquet")
    assert users.schema.field("embedding").type == pa.list_(pa.float32(), 100)
    assert users["id"].to_pylist() == sorted(users["id"].to_pylist())
    vectors = np.load(version / "users.npy")
    assert vectors.dtype == np.float32 and vectors.shape == (60, 100)
    assert np.array_equal(np.asarray(users["embedding"].to_pylist(), dtype=np.float32), vectors)
    assert np.load(version / "item_text.npy").shape == (40, 384)
    assert (version / MARKER).stat().st_mtime_ns >= (version / "manifest.json").stat().st_mtime_ns
    served = read_export(version)  # the serving side reads what the GNN stage writes
    assert served.manifest.metrics["test"].keys() == {"ap", "auc", "mrr"} and served.manifest.dim == 100
    before = (version / "users.npy").read_bytes()
    with pytest.raises(StageOutputError, match="already published"):
        export_step(_config(root), root / "model", as_of, root / "emb", "v1")
    assert (version / "users.npy").read_bytes() == before


def test_embeddings_depend_on_the_as_of_time_and_a_crashed_version_is_replaced(root: Path, trained: TrainResult) -> None:
    crashed = root / "emb" / "v2"
    crashed.mkdir(parents=True)
    (crashed / "users.npy").write_bytes(b"half")
    export_step(_config(root), root / "model", START + timedelta(days=10), root / "emb", "v2")
    export_step(_config(root), root / "model", START + timedelta(days=40), root / "emb", "v3")
    early, late = np.load(crashed / "users.npy"), np.load(root / "emb" / "v3" / "users.npy")
    assert early.shape == late.shape and not np.allclose(early, late)
    assert (crashed / MARKER).exists()


def test_export_embeds_users_and_items_that_arrived_after_training(root: Path, trained: TrainResult) -> None:
    # Newer inputs: a new user who buys group-0 items, and a new item with a title in a newer snapshot.
    events = pl.read_parquet(root / "ingest" / "events")
    late = events.tail(12).with_columns(
        pl.Series("user_id", ["u900"] * 10 + ["u001", "u002"]),
        pl.Series("item_id", [f"i{i:03d}" for i in range(10)] + ["i950", "i950"]),
        pl.col("ts") + pl.duration(days=1))
    (root / "later" / "events").mkdir(parents=True)
    pl.concat([events, late]).write_parquet(root / "later" / "events" / "part-0.parquet")
    (root / "later" / "_SUCCESS.json").write_text("{}")
    shutil.copytree(root / "snap", root / "snap2")
    items = pl.read_parquet(root / "snap" / "items.parquet")
    pl.concat([items, items.head(1).with_columns(pl.lit("i950").alias("id"), pl.lit("mug model 950").alias("title"))]
              ).write_parquet(root / "snap2" / "items.parquet")

    as_of = START + timedelta(days=60)
    report = export_step(_config(root), root / "model", as_of, root / "emb", "later", root / "later", root / "snap2")
    assert report.rows == {"users": 61, "items": 41}
    assert report.details["users_unseen_in_training"] == 1 and report.details["items_unseen_in_training"] == 1
    served = read_export(root / "emb" / "later")
    assert served.manifest.unseen_in_training == {"users": 1, "items": 1}
    assert served.manifest.snapshot == str(root / "snap2")
    users = dict(zip(served.users.ids, served.users.vectors, strict=True))
    assert np.abs(users["u900"]).sum() > 0 and not np.allclose(users["u900"], users["u000"])
    text = np.load(root / "emb" / "later" / "item_text.npy")
    item_ids = served.items.ids
    trained_text = np.load(root / "model" / "features.npy")
    assert np.array_equal(text[item_ids.index("i000")], trained_text[0])  # trained rows are reused
    assert np.linalg.norm(text[item_ids.index("i950")]) == pytest.approx(1.0, abs=1e-3)  # new title encoded
    # The trained model's own export (training inputs) has no unseen rows.
    same = export_step(_config(root), root / "model", as_of, root / "emb", "same")
    assert same.details["users_unseen_in_training"] == 0 and same.rows == {"users": 60, "items": 40}


def test_no_events_yet_is_told_apart_from_no_events(root: Path, tmp_path: Path) -> None:
    from gnn.stream import read_events
    from kg.errors import NoEventsYet

    with pytest.raises(NoEventsYet, match="no events at or before"):
        read_events(root / "ingest", START - timedelta(days=1))
    (tmp_path / "events").mkdir()
    pl.read_parquet(root / "ingest" / "events").head(0).write_parquet(tmp_path / "events" / "part-0.parquet")
    with pytest.raises(InputDataError, match="no events") as raised:
        read_events(tmp_path, START + timedelta(days=1))
    assert not isinstance(raised.value, NoEventsYet)


def test_missing_inputs_are_named(root: Path, tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="not a graph snapshot"):
        train(_config(root), root / "ingest", tmp_path, tmp_path / "m")
    with pytest.raises(StageOutputError, match="no train output"):
        export_step(_config(root), tmp_path / "nothing", START, tmp_path / "emb")


def _ctr_ingest(root: Path, out: Path) -> Path:
    """The model's training events as a kgrec ingest output, with the snapshot's items."""
    shutil.copytree(root / "ingest", out)
    (out / "items").mkdir()
    pl.read_parquet(root / "snap" / "items.parquet").rename({"id": "item_id"}).write_parquet(
        out / "items" / "part-0.parquet")
    return out


def test_ctr_exports_are_point_in_time_and_reused_on_a_rerun(root: Path, trained: TrainResult,
                                                             tmp_path: Path) -> None:
    from dataclasses import replace

    from pipelines.steps.ctr import export_versions
    from serving.ctr.config import CtrSection
    from serving.ctr.data import basket_samples, positive_lines

    ingest, settings = _ctr_ingest(root, tmp_path / "ingest"), CtrSection(max_baskets=300, negatives=1)
    events, items = pl.read_parquet(ingest / "events"), pl.read_parquet(ingest / "items")
    data = basket_samples("events", positive_lines(events, settings, str(ingest)), items, settings)
    paths = export_versions(_config(root), root / "model", data, 2, tmp_path / "emb")
    times = [read_export(p).manifest.as_of for p in paths]
    assert len(paths) == 3 and times == sorted(times) and times[-1] < data.cutoff
    assert data.cutoff - times[-1] == timedelta(microseconds=1)
    made = [(p / MARKER).stat().st_mtime_ns for p in paths]
    assert export_versions(_config(root), root / "model", data, 2, tmp_path / "emb") == paths
    assert [(p / MARKER).stat().st_mtime_ns for p in paths] == made  # finished versions are kept
    shutil.copy(paths[0] / "manifest.json", paths[1] / "manifest.json")
    with pytest.raises(StageOutputError, match="exported as of"):
        export_versions(_config(root), root / "model", data, 2, tmp_path / "emb")
    # times before the first event make no version, and leave no half-made directory behind
    early = replace(data, train=replace(data.train, ts=data.train.ts - 10**15))  # ~32 years earlier
    made = export_versions(_config(root), root / "model", early, 2, tmp_path / "early")
    assert [p.name for p in made] == [p.name for p in (tmp_path / "early").iterdir()] == [paths[-1].name]


def test_eval_ctr_command_exports_a_model_point_in_time(root: Path, trained: TrainResult, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    ingest = _ctr_ingest(root, tmp_path / "ingest")
    config = tmp_path / "kgrec.yaml"
    config.write_text(f"gnn:\n  text_cache_dir: {root / 'text_cache'}\n"
                      "ctr:\n  epochs: 1\n  max_baskets: 300\n  embedding_versions: 2\n")
    args = ["eval", "ctr", "--dataset", "events", "--ingest", str(ingest), "--out", str(tmp_path / "out"),
            "--config", str(config)]
    result = CliRunner().invoke(app, [*args, "--model", str(root / "model")], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "| DIN | +kgrec |" in result.output and '"embedding_versions": 3' in result.output
    assert len(list((tmp_path / "out" / "embeddings").iterdir())) == 3
    assert len(list((tmp_path / "out" / "fuxictr").iterdir())) == 3
    neither = CliRunner().invoke(app, args)
    assert neither.exit_code == 2 and "either --model" in neither.output
