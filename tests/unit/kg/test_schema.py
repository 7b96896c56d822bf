"""The pydantic table models are the one definition; Arrow schemas and docs follow them."""

import re
from pathlib import Path

import pyarrow as pa
import pytest

from kg.arrow_schema import TIMESTAMP, arrow_schema_of, conform, with_optional_columns
from kg.schema import TABLE_MODELS, Concept, Event, ItemPair, Relation

DOC = Path(__file__).resolve().parents[3] / "docs" / "data-model.md"


def test_event_schema_types_and_nullability() -> None:
    schema = arrow_schema_of(Event)
    assert schema.names == ["user_id", "item_id", "event_type", "ts", "session_id", "query"]
    assert schema.field("ts").type == TIMESTAMP
    assert not schema.field("user_id").nullable and schema.field("query").nullable
    assert schema.field("user_id").metadata[b"description"].startswith(b"Stable user")


def test_conform_orders_and_casts_columns() -> None:
    table = pa.table({"query": [None], "session_id": ["s"], "ts": pa.array([0], pa.int64()).cast(TIMESTAMP),
                      "event_type": ["view"], "item_id": ["i"], "user_id": ["u"], "extra": [1]})
    assert conform(table, Event).schema == arrow_schema_of(Event)


def test_conform_fills_absent_optional_fields_with_nulls_and_nothing_else() -> None:
    # a graph input written before the decision fields existed
    old = pa.table({"id": ["r"], "head": ["a"], "type": ["COMPLEMENTS"], "tail": ["b"], "confidence": [0.5],
                    "support": [1], "model": ["m"], "prompt_version": ["v"], "run_id": ["run"],
                    "evidence_id": ["e"]})
    table = conform(old, Relation)
    assert table.schema == arrow_schema_of(Relation)
    filled = ["tail_text", "lift", "confidence_ab", "confidence_ba", "first_seen", "last_seen", "rationale", "decided_by", "critic_score",
              "decision_threshold", "proposed_type", "derived_from"]
    assert [name for name in table.column_names if table.column(name).null_count] == filled
    with pytest.raises(KeyError, match="confidence"):  # a required field stays required
        conform(old.drop_columns(["confidence"]), Relation)
    with pytest.raises(KeyError, match="aliases"):  # a default other than None is not guessed
        conform(pa.table({"id": ["c"], "text": ["t"], "kind": ["k"]}), Concept)


def test_optional_columns_are_appended_to_record_batches_too() -> None:
    batch = pa.record_batch({"user_id": ["u"], "item_id": ["i"], "event_type": ["view"],
                             "ts": pa.array([0], pa.int64()).cast(TIMESTAMP)})
    filled = with_optional_columns(batch, Event)
    assert isinstance(filled, pa.RecordBatch) and filled.schema.names[-2:] == ["session_id", "query"]
    assert with_optional_columns(filled, Event) is filled  # nothing absent: nothing to do


@pytest.mark.parametrize("table", sorted(TABLE_MODELS))
def test_data_model_doc_lists_every_field(table: str) -> None:
    text = DOC.read_text()
    section = re.search(rf"^## `{table}`.*?(?=^## |\Z)", text, re.S | re.M)
    assert section, f"docs/data-model.md has no section for `{table}`"
    for name in TABLE_MODELS[table].model_fields:
        assert f"| `{name}` |" in section.group(0), f"`{table}.{name}` is not documented"


def test_pairs_are_unordered_by_contract() -> None:
    assert "item_a < item_b" in (ItemPair.__doc__ or "")
