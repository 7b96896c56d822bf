"""The loader hands validated relation rows on as Arrow, the same whatever types the file used."""

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from kg.load.validation import validate_relations
from kg.schema import Relation
from kg.store import RELATION_ROWS, relation_params

ROWS = [
    {"id": "CO_PURCHASED:1", "head": "a", "type": "CO_PURCHASED", "tail": "b", "tail_text": None,
     "confidence": 1.0, "support": 3, "lift": 2.5, "first_seen": datetime(2026, 1, 1, tzinfo=UTC),
     "last_seen": None, "model": "cooccurrence", "prompt_version": "n/a", "rationale": 'say "why"',
     "run_id": "r", "evidence_id": "e"},
    {"id": "bad", "head": "a", "type": "NOT_A_TYPE", "tail": "c", "tail_text": None, "confidence": 0.5,
     "support": 1, "lift": None, "first_seen": None, "last_seen": None, "model": "m", "prompt_version": "p",
     "rationale": None, "run_id": "r", "evidence_id": "e"},
]


def test_large_strings_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = pa.Table.from_pylist(ROWS[:1], schema=RELATION_ROWS).cast(pa.schema([
        f.with_type(pa.large_string()) if f.type == pa.string() else f for f in RELATION_ROWS])).to_batches()[0]
    monkeypatch.setattr(Relation, "model_validate", None)  # the row-by-row path would need it
    valid, numbers, invalid = validate_relations(batch, 0)
    assert valid.schema == RELATION_ROWS and numbers.tolist() == [0] and not invalid


def test_a_file_without_the_optional_decision_columns_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = pa.Table.from_pylist(ROWS[:1], schema=RELATION_ROWS).drop_columns(
        ["decided_by", "critic_score", "decision_threshold", "proposed_type"]).to_batches()[0]
    monkeypatch.setattr(Relation, "model_validate", None)  # the row-by-row path would need it
    valid, numbers, invalid = validate_relations(batch, 0)
    assert valid.schema == RELATION_ROWS and numbers.tolist() == [0] and not invalid
    assert valid.column("critic_score").null_count == 1


def test_decisions_travel_as_parameters() -> None:
    decided = {**ROWS[0], "decided_by": "critic-3fa2", "critic_score": 0.25, "decision_threshold": 0.5}
    valid, _, _ = validate_relations(pa.Table.from_pylist([decided], schema=RELATION_ROWS).to_batches()[0], 0)
    params = relation_params(valid).to_pylist()[0]
    assert (params["decided_by"], params["critic_score"], params["decision_threshold"]) == ("critic-3fa2", 0.25, 0.5)
    assert params["proposed_type"] is None


def test_rows_in_the_model_types_are_taken_as_they_are_and_others_are_rebuilt_the_same() -> None:
    canonical = pa.Table.from_pylist(ROWS, schema=RELATION_ROWS).to_batches()[0]
    other_types = pa.Table.from_pylist(ROWS, schema=RELATION_ROWS).cast(pa.schema([
        f.with_type(pa.float64()) if f.name in ("support",) else
        f.with_type(pa.timestamp("us", tz="UTC")) if f.name in ("first_seen", "last_seen") else f
        for f in RELATION_ROWS])).to_batches()[0]
    tables = []
    for batch in (canonical, other_types):
        valid, numbers, invalid = validate_relations(batch, 10)
        assert numbers.tolist() == [10] and invalid[0]["row_number"] == 11
        assert invalid[0]["reason"].startswith("invalid relation: type: Input should be")
        tables.append(valid)
    assert tables[0].equals(tables[1]) and tables[0].schema == RELATION_ROWS and tables[0].num_rows == 1
    params = relation_params(tables[0]).to_pylist()[0]
    assert params["first_seen"] == 1767225600000 and params["support"] == 3 and "type" not in params
