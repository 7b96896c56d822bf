"""`kgrec graph` and `kgrec curate` as a curator uses them, on the embedded FalkorDB."""

import json
from pathlib import Path

import polars as pl

from kg.schema import RelationType, relation_id
from tests._support.cli import kgrec as _kgrec


def _graph_input(directory: Path) -> list[str]:
    """Two behavioural relations (no decision) and one the critic scored; their ids in that order."""
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
    scored = relation_id("plates", RelationType.COMPLEMENTS, "napkins")
    pl.DataFrame({"id": [scored], "head": ["plates"], "type": "COMPLEMENTS", "tail": ["napkins"],
                  "confidence": [0.7], "support": [1], "model": "llm", "prompt_version": "pair-v1",
                  "run_id": "r1", "evidence_id": "e2", "decided_by": "critic-3fa2", "critic_score": [0.5],
                  "decision_threshold": [0.4]}).write_parquet(directory / "relations" / "part-1.parquet")
    return [*ids, scored]


def test_curator_round_trip(tmp_path: Path) -> None:
    env = {"KGREC_GRAPH__STATE_DIR": str(tmp_path / "state")}
    assert _kgrec("graph", "status", cwd=tmp_path, env=env).returncode == 1
    started = _kgrec("graph", "start", cwd=tmp_path, env=env)
    assert started.returncode == 0 and "running: pid" in started.stdout
    try:
        strong, weak, scored = _graph_input(tmp_path / "input")
        loaded = _kgrec("graph", "load", "--in", "input", cwd=tmp_path, env=env)
        assert loaded.returncode == 0, loaded.stderr[-2000:]
        assert json.loads(loaded.stdout)["rows"]["graph_relations"] == 3
        queue = _kgrec("curate", "list", cwd=tmp_path, env={**env, "COLUMNS": "250"})
        # the scored relation first (what teaches the critic most), then the unscored by support
        assert queue.returncode == 0 and queue.stderr.index(scored) < queue.stderr.index(strong) \
            < queue.stderr.index(weak)
        assert "critic" in queue.stderr and " 0.50 " in queue.stderr.splitlines()[_line_of(queue.stderr, scored)]
        assert _kgrec("curate", "reject", weak, "--by", "ann", cwd=tmp_path, env=env).returncode == 0
        assert _kgrec("curate", "accept", strong, scored, "--by", "ann", cwd=tmp_path, env=env).returncode == 0
        unknown = _kgrec("curate", "accept", "CO_PURCHASED:nope", cwd=tmp_path, env=env)
        assert unknown.returncode == 2 and "no such relation" in unknown.stderr
        exported = _kgrec("curate", "export", "--out", "labels.csv", cwd=tmp_path, env=env)
        assert exported.returncode == 0
        labels = pl.read_csv(tmp_path / "labels.csv")
        assert dict(labels.select("id", "status").iter_rows()) == {strong: "accepted", weak: "rejected",
                                                                   scored: "accepted"}
        assert set(labels["status_by"]) == {"ann"}
        decisions = {row[0]: row[1:] for row in labels.select("id", "critic_score", "decided_by").iter_rows()}
        assert decisions == {strong: (None, None), weak: (None, None), scored: (0.5, "critic-3fa2")}
        snapshot = _kgrec("graph", "snapshot", "--out", "snap", "--as-of", "2100-01-01", cwd=tmp_path, env=env)
        assert snapshot.returncode == 0, snapshot.stderr[-2000:]
        snapped = pl.read_parquet(tmp_path / "snap" / "relations.parquet").sort("id")
        assert snapped["id"].to_list() == sorted([strong, scored])  # the rejected one left out
        assert {row[0]: row[1:] for row in snapped.select("id", "critic_score", "decided_by").iter_rows()} == {
            strong: (None, None), scored: (0.5, "critic-3fa2")}
        status = _kgrec("graph", "status", cwd=tmp_path, env=env)
        assert "3 nodes, 3 relations" in status.stdout
        (tmp_path / "extract" / "relations").mkdir(parents=True)
        refused = _kgrec("graph", "load", "--in", "extract", cwd=tmp_path, env=env)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
        assert "extract: has relations/ but no items/" in refused.stderr and "kgrec refine" in refused.stderr
    finally:
        assert "stopped" in _kgrec("graph", "stop", cwd=tmp_path, env=env).stdout


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines()) if needle in line)


def test_curator_merges_and_splits_concepts(tmp_path: Path) -> None:
    env = {"KGREC_GRAPH__STATE_DIR": str(tmp_path / "state")}
    photos, pictures = "function:taking photos", "function:taking pictures"
    (tmp_path / "input" / "items").mkdir(parents=True)
    (tmp_path / "input" / "relations").mkdir()
    (tmp_path / "input" / "concepts").mkdir()
    pl.DataFrame({"item_id": ["cam", "phone"], "title": ["Camera", "Phone"], "category": None, "brand": None},
                 schema_overrides={"category": pl.String, "brand": pl.String}).write_parquet(
        tmp_path / "input" / "items" / "part.parquet")
    pl.DataFrame({"id": [photos, pictures], "text": ["taking photos", "taking pictures"], "kind": "function",
                  "aliases": [["snapping pics"], []]}).write_parquet(tmp_path / "input" / "concepts" / "part.parquet")
    pl.DataFrame({"id": [relation_id("cam", RelationType.USED_FOR, photos),
                         relation_id("phone", RelationType.USED_FOR, pictures)],
                  "head": ["cam", "phone"], "type": "USED_FOR", "tail": [photos, pictures],
                  "tail_text": ["snapping pics", "taking pictures"], "confidence": [0.9, 0.8], "support": 1,
                  "model": "llm", "prompt_version": "v1", "run_id": "r1", "evidence_id": ["e1", "e2"]}
                 ).write_parquet(tmp_path / "input" / "relations" / "part.parquet")
    assert _kgrec("graph", "start", cwd=tmp_path, env=env).returncode == 0
    try:
        assert _kgrec("graph", "load", "--in", "input", cwd=tmp_path, env=env).returncode == 0
        merged = _kgrec("curate", "merge-concepts", photos, pictures, "--by", "ann", cwd=tmp_path, env=env)
        assert merged.returncode == 0 and "1 relation(s) moved" in merged.stdout, merged.stderr[-2000:]
        split = _kgrec("curate", "split-concept", photos, "snapping pics", cwd=tmp_path, env=env)
        assert split.returncode == 0 and "as function:snapping pics; 1 relation(s) moved" in split.stdout
        wrong = _kgrec("curate", "split-concept", photos, "selfies", cwd=tmp_path, env=env)
        assert wrong.returncode == 2 and "has no alias 'selfies'" in wrong.stderr and "Traceback" not in wrong.stderr
        assert _kgrec("graph", "snapshot", "--out", "snap", "--as-of", "2100-01-01", cwd=tmp_path,
                      env=env).returncode == 0
        tails = pl.read_parquet(tmp_path / "snap" / "relations.parquet").sort("head")["tail"].to_list()
        assert tails == ["function:snapping pics", photos]
    finally:
        assert "stopped" in _kgrec("graph", "stop", cwd=tmp_path, env=env).stdout
