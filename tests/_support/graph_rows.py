"""Graph input rows for store tests: a relation row as the loader takes it, and a graph input directory."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from kg.load import RetryPolicy
from kg.schema import RelationType, relation_id

HOSTILE = "Tent \"Pro\" ') RETURN 1 // MATCH (n) DETACH DELETE n; \\ {x} $rows `y` ✓"
POLICY = RetryPolicy(max_retries=0, backoff_s=0.01)


def relation_row(head: str, relation: RelationType, tail: str, run_id: str, **extra: Any) -> dict[str, Any]:
    row = {"id": relation_id(head, relation, tail), "head": head, "type": relation.value, "tail": tail,
           "tail_text": None, "confidence": 0.8, "support": 3, "lift": 4.5,
           "first_seen": datetime(2026, 1, 10, tzinfo=UTC), "last_seen": datetime(2026, 2, 1, tzinfo=UTC),
           "model": "test-model", "prompt_version": "v1", "rationale": "because", "run_id": run_id,
           "evidence_id": f"evidence-of-{run_id}"}
    return {**row, **extra}


def write_input(directory: Path, relations: list[dict[str, Any]], items: list[str] | None = None,
                 concepts: list[dict[str, Any]] | None = None) -> Path:
    (directory / "relations").mkdir(parents=True, exist_ok=True)
    pl.DataFrame(relations, infer_schema_length=None).write_parquet(directory / "relations" / "part.parquet")
    if items is not None:  # [] is an empty items/: the relations' items are in the graph already
        (directory / "items").mkdir(exist_ok=True)
    if items:
        pl.DataFrame({"item_id": items, "title": [HOSTILE if i == "A" else f"title {i}" for i in items],
                      "category": ["c"] * len(items), "brand": [None] * len(items)},
                     schema_overrides={"brand": pl.String}).write_parquet(directory / "items" / "part.parquet")
    if concepts is not None:
        (directory / "concepts").mkdir(exist_ok=True)
        pl.DataFrame(concepts).write_parquet(directory / "concepts" / "part.parquet")
    return directory


