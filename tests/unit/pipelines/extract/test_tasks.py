"""Planning questions from a tiny LLM queue and items table."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from kg.schema import LlmTask
from pipelines.config import ExtractSection
from pipelines.extract.tasks import plan_tasks

SEEN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "candidates" / "llm_queue").mkdir(parents=True)
    (tmp_path / "ingest" / "items").mkdir(parents=True)
    pl.DataFrame({"item_a": ["a", "a", "b"], "item_b": ["b", "c", "c"], "n_ab": [5, 4, 3],
                  "lift": [2.0, 1.5, 1.2], "first_seen": [SEEN] * 3, "last_seen": [SEEN] * 3,
                  "llm_rank": [0, 1, 2]}).write_parquet(tmp_path / "candidates" / "llm_queue" / "part-0.parquet")
    pl.DataFrame({"item_id": ["a", "b", "c"], "title": ["tent", "sleeping bag", "kettle"],
                  "category": [None, None, None], "brand": [None, None, None]},
                 schema_overrides={"category": pl.String, "brand": pl.String}
                 ).write_parquet(tmp_path / "ingest" / "items" / "part-0.parquet")
    return tmp_path / "candidates", tmp_path / "ingest"


@pytest.mark.parametrize("tasks", [[LlmTask.COMMONSENSE], [LlmTask.FACTS, LlmTask.COMMONSENSE]])
def test_item_questions_without_pair_questions_still_come_from_the_queue(
        dirs: tuple[Path, Path], tasks: list[LlmTask]) -> None:
    plan = plan_tasks(*dirs, ExtractSection(tasks=tasks, max_pairs=2, max_items=2), "m")
    asked = plan.tasks.to_pylist()
    assert {row["task"] for row in asked} == {t.value for t in tasks}
    # a is in both of the first two pairs, then b (rank 0) before c (rank 1)
    assert [row["item_a"] for row in asked if row["task"] == tasks[0].value] == ["a", "b"]


def test_pair_questions_follow_the_queue_order_up_to_max_pairs(dirs: tuple[Path, Path]) -> None:
    plan = plan_tasks(*dirs, ExtractSection(tasks=[LlmTask.PAIR], max_pairs=2, prefilter=False), "m")
    assert [(r["item_a"], r["item_b"]) for r in plan.tasks.to_pylist()] == [("a", "b"), ("a", "c")]
    assert plan.counts["queued_pairs"] == 2
