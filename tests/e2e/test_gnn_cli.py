"""`kgrec train` and `kgrec embed export` as a user runs them, on small real files."""

import json
from pathlib import Path

from tests._support.cli import kgrec as _kgrec
from tests._support.gnn_data import write_events, write_snapshot


def test_train_then_export_twice_refuses_to_overwrite(tmp_path: Path) -> None:
    write_events(tmp_path / "ingest", events=800)
    write_snapshot(tmp_path / "snap")
    env = {"KGREC_GNN__EPOCHS": "1", "KGREC_GNN__BATCH_SIZE": "200", "KGREC_GNN__THREADS": "1",
           "KGREC_GNN__TEXT_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    trained = _kgrec("train", "--snapshot", "snap", "--events", "ingest", "--out", "model", "--device", "cpu",
                     cwd=tmp_path, env=env)
    assert trained.returncode == 0, trained.stderr[-3000:]
    report = json.loads(trained.stdout)
    assert report["name"] == "train" and report["rows"]["events"] == 800
    assert "epoch 1: loss" in trained.stderr and (tmp_path / "model" / "_SUCCESS.json").exists()
    args = ("embed", "export", "--as-of", "2026-02-15T00:00:00", "--out", "emb", "--model", "model",
            "--version", "v1")
    exported = _kgrec(*args, cwd=tmp_path, env=env)
    assert exported.returncode == 0, exported.stderr[-3000:]
    manifest = json.loads((tmp_path / "emb" / "v1" / "manifest.json").read_text())
    assert manifest["as_of"].startswith("2026-02-15T00:00:00") and manifest["rows"]["items"] == 40
    again = _kgrec(*args, cwd=tmp_path, env=env)
    assert again.returncode == 2 and "already published" in again.stderr


def test_train_without_a_snapshot_names_it(tmp_path: Path) -> None:
    write_events(tmp_path / "ingest", events=100)
    result = _kgrec("train", "--snapshot", "missing", "--events", "ingest", "--out", "model", cwd=tmp_path)
    assert result.returncode == 2
    assert "missing" in result.stderr and "not a graph snapshot" in result.stderr
