"""`kgrec graph` and `kgrec curate` as a curator uses them, on the embedded FalkorDB."""

import json
from pathlib import Path

import polars as pl

from kg.schema import RelationType, relation_id
from tests.e2e.test_cli import _kgrec


def _graph_input(directory: Path) -> list[str]:
    (directory / "items").mkdir(parents=True)
    (directory / "relations").mkdir()
    pl.DataFrame({"item_id": ["cups", "plates", "napkins"], "title": ["Paper cups", "Paper plates", "Napkins"],
                  "category": None, "brand": None},
                 schema_overrides={"category": pl.String, "brand": pl.String}).write_parquet(
        directory / "items" / "part.parquet")
    pairs = [("cups", "plates"), ("cups", "napkins")]
    ids = [relation_id(a, RelationType.CO_PURCHASED, b) for a, b in pairs]
    pl.DataFrame({"id": ids, "head": [a for a, _ in pairs], "type": "CO_PURCHASED",
                  "tail": [b for _, b in pairs], "tail_text": None, "confidence": [0.9, 0.4],
                  "support": [12, 3], "lift": [40.0, 3.0], "first_seen": None, "last_seen": None,
                  "model": "cooccurrence", "prompt_version": "n/a", "rationale": None, "run_id": "r1",
                  "evidence_id": "e1"},
                 schema_overrides={"tail_text": pl.String, "first_seen": pl.Datetime("ms", "UTC"),
                                   "last_seen": pl.Datetime("ms", "UTC"), "rationale": pl.String}
                 ).write_parquet(directory / "relations" / "part.parquet")
    return ids


def test_curator_round_trip(tmp_path: Path) -> None:
    env = {"KGREC_GRAPH__STATE_DIR": str(tmp_path / "state")}
    assert _kgrec("graph", "status", cwd=tmp_path, env=env).returncode == 1
    started = _kgrec("graph", "start", cwd=tmp_path, env=env)
    assert started.returncode == 0 and "running: pid" in started.stdout
    try:
        strong, weak = _graph_input(tmp_path / "input")
        loaded = _kgrec("graph", "load", "--in", "input", cwd=tmp_path, env=env)
        assert loaded.returncode == 0, loaded.stderr[-2000:]
        assert json.loads(loaded.stdout)["rows"]["graph_relations"] == 2
        queue = _kgrec("curate", "list", cwd=tmp_path, env={**env, "COLUMNS": "250"})
        assert queue.returncode == 0 and queue.stderr.index(strong) < queue.stderr.index(weak)
        assert _kgrec("curate", "reject", weak, "--by", "ann", cwd=tmp_path, env=env).returncode == 0
        assert _kgrec("curate", "accept", strong, "--by", "ann", cwd=tmp_path, env=env).returncode == 0
        unknown = _kgrec("curate", "accept", "CO_PURCHASED:nope", cwd=tmp_path, env=env)
        assert unknown.returncode == 2 and "no such relation" in unknown.stderr
        exported = _kgrec("curate", "export", "--out", "labels.csv", cwd=tmp_path, env=env)
        assert exported.returncode == 0
        labels = pl.read_csv(tmp_path / "labels.csv")
        assert dict(labels.select("id", "status").iter_rows()) == {strong: "accepted", weak: "rejected"}
        assert set(labels["status_by"]) == {"ann"}
        snapshot = _kgrec("graph", "snapshot", "--out", "snap", "--as-of", "2100-01-01", cwd=tmp_path, env=env)
        assert snapshot.returncode == 0, snapshot.stderr[-2000:]
        assert pl.read_parquet(tmp_path / "snap" / "relations.parquet")["id"].to_list() == [strong]
        status = _kgrec("graph", "status", cwd=tmp_path, env=env)
        assert "3 nodes, 2 relations" in status.stdout
    finally:
        assert "stopped" in _kgrec("graph", "stop", cwd=tmp_path, env=env).stdout
