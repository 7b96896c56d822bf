"""The column-at-a-time validity check agrees with pydantic row by row, hostile values included."""

import math
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from kg.arrow_schema import valid_mask
from kg.schema import Relation
from kg.store import RELATION_ROWS

GOOD: dict[str, Any] = {
    "id": "COMPLEMENTS:1", "head": "a", "type": "COMPLEMENTS", "tail": "b", "tail_text": None,
    "confidence": 0.5, "support": 3, "lift": None, "first_seen": datetime(2026, 1, 1, tzinfo=UTC),
    "last_seen": None, "model": "m", "prompt_version": "p", "rationale": None, "run_id": "r", "evidence_id": "e"}
CHANGES: list[dict[str, Any]] = [
    {}, {"confidence": 0.0}, {"confidence": 1.0}, {"confidence": 1.0000001}, {"confidence": -0.0},
    {"confidence": math.nan}, {"confidence": math.inf}, {"confidence": None}, {"support": -1}, {"support": 0},
    {"support": None}, {"lift": math.nan}, {"lift": -math.inf}, {"type": "complements"}, {"type": ""},
    {"type": None}, {"type": "USED_FOR"}, {"head": None}, {"head": ""}, {"head": "a\x00b"},
    {"tail": "\u2603 `x` $rows"}, {"evidence_id": None}, {"tail_text": "t"}, {"rationale": "') DETACH DELETE"},
]


def _accepts(row: dict[str, Any]) -> bool:
    try:
        Relation.model_validate(row)
    except ValidationError:
        return False
    return True


def test_mask_matches_pydantic_on_every_row() -> None:
    rows = [{**GOOD, **change} for change in CHANGES]
    batch = pa.Table.from_pylist(rows, schema=RELATION_ROWS).to_batches()[0]
    mask = valid_mask(batch, Relation)
    assert mask is not None
    assert mask.to_pylist() == [_accepts(row) for row in rows]
    assert 0 < sum(mask.to_pylist()) < len(rows)


@pytest.mark.parametrize("change", ["extra column", "missing column", "other type"])
def test_other_layouts_are_left_to_pydantic(change: str) -> None:
    table = pa.Table.from_pylist([GOOD], schema=RELATION_ROWS)
    if change == "extra column":
        table = table.append_column("unexpected", pa.array([1]))
    elif change == "missing column":
        table = table.drop_columns(["lift"])
    else:
        table = table.set_column(table.schema.get_field_index("support"), "support", pa.array([3.0]))
    assert valid_mask(table.to_batches()[0], Relation) is None


def test_what_it_cannot_check_is_left_to_pydantic() -> None:
    class Named(BaseModel):
        name: str = Field(max_length=3)

    class Tagged(BaseModel):
        tags: list[str]

    class Checked(BaseModel):
        name: str

        @field_validator("name")
        @classmethod
        def no_spaces(cls, value: str) -> str:
            return value.replace(" ", "")

    assert valid_mask(pa.RecordBatch.from_pylist([{"name": "abcd"}]), Named) is None
    assert valid_mask(pa.RecordBatch.from_pylist([{"tags": ["a", None]}]), Tagged) is None
    assert valid_mask(pa.RecordBatch.from_pylist([{"name": "a b"}]), Checked) is None
