"""`keep_changes`: an increment's relations/ holds only what the graph lacks; held/ what it will hold."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from kg.arrow_schema import conform
from kg.schema import Relation, RelationType, relation_id
from pipelines.outputs import begin_stage, mark_complete
from pipelines.refine.increment import HELD, keep_changes

DAY = datetime(2026, 3, 1, tzinfo=UTC)


def _row(head: str, kind: RelationType, tail: str, evidence: str, **values: Any) -> dict[str, Any]:
    behavioural = kind == RelationType.CO_PURCHASED
    row = {"id": relation_id(head, kind, tail), "head": head, "type": kind.value, "tail": tail,
           "confidence": 0.5, "support": 3, "lift": 2.0 if behavioural else None, "first_seen": DAY,
           "last_seen": DAY, "model": "cooccurrence" if behavioural else "llm", "prompt_version": "v1",
           "run_id": "r", "evidence_id": evidence}
    return {**row, **values}


def _output(directory: Path, rows: list[dict[str, Any]]) -> Path:
    begin_stage(directory, "refine")
    (directory / "relations").mkdir(parents=True, exist_ok=True)
    frame = pl.DataFrame(rows, infer_schema_length=None)
    pq.write_table(conform(frame.to_arrow(), Relation), directory / "relations" / "part-00000.parquet")
    return directory


def test_only_new_or_moved_relations_are_sent(tmp_path: Path) -> None:
    co, comp = RelationType.CO_PURCHASED, RelationType.COMPLEMENTS
    base = _output(tmp_path / "base", [
        _row("a", co, "b", "pairs:1", support=4), _row("a", co, "c", "pairs:1"), _row("b", co, "d", "pairs:1"),
        _row("a", comp, "b", "answer:1"), _row("c", comp, "d", "answer:2")])
    assert keep_changes(base, None) == {"relations_sent": 5, "relations_unchanged": 0}
    mark_complete(base, {})
    later = DAY.replace(day=2)
    increment = _output(tmp_path / "increment", [
        _row("a", co, "b", "pairs:2", support=6, last_seen=later, confidence=0.6),  # moved: 2 more baskets
        _row("a", co, "c", "pairs:2"),  # the same values: not sent
        _row("c", co, "d", "pairs:2", support=1),  # new pair: sent whole
        _row("a", comp, "b", "answer:1"),  # the same answer (cache hit): not sent
        _row("c", comp, "d", "answer:2", decided_by="critic-x", critic_score=0.9, decision_threshold=0.5),
    ])
    assert keep_changes(increment, base) == {"relations_sent": 3, "relations_unchanged": 2}
    sent = pl.read_parquet(increment / "relations").sort("id")
    assert {(r["head"], r["tail"], r["type"], r["support"]) for r in sent.iter_rows(named=True)} == {
        ("a", "b", "CO_PURCHASED", 2), ("c", "d", "CO_PURCHASED", 1), ("c", "d", "COMPLEMENTS", 3)}
    held = pl.read_parquet(increment / HELD)
    # b-d fell out of the increment's pairs but the graph keeps it; a-b is held at its full count.
    assert held.height == 6
    assert held.filter(pl.col("id") == relation_id("a", co, "b"))["support"].to_list() == [6]
    assert held.filter(pl.col("id") == relation_id("b", co, "d")).height == 1
