"""Planning questions from a tiny LLM queue and items table."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from kg.errors import InputDataError
from kg.schema import LlmTask
from pipelines.extract.answers import PairAnswer
from pipelines.extract.config import ExtractSection
from pipelines.extract.prefilter import PREFILTER_MODEL, PREFILTER_VERSION
from pipelines.extract.tasks import plan_tasks
from pipelines.refine.variants import CONFIDENT_THRESHOLD

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


def test_listed_pairs_are_asked_instead_of_the_queue_best_score_first(dirs: tuple[Path, Path],
                                                                      tmp_path: Path) -> None:
    candidates, ingest = dirs
    (candidates / "pairs").mkdir()
    pl.DataFrame({"item_a": ["a", "a", "b"], "item_b": ["b", "c", "c"], "n_ab": [5, 4, 3],
                  "lift": [2.0, 1.5, 1.2], "score": [0.1, 0.2, 0.3], "first_seen": [SEEN] * 3,
                  "last_seen": [SEEN] * 3}).write_parquet(candidates / "pairs" / "part-0.parquet")
    listed = tmp_path / "labels.csv"
    listed.write_text("a,b,label\nc,b,variant\na,b,unrelated\nzz,a,complement\n")  # either order; one unmined
    plan = plan_tasks(candidates, ingest, ExtractSection(tasks=[LlmTask.PAIR], max_pairs=None, prefilter=False,
                                                         pairs_path=listed), "m")
    assert [(r["item_a"], r["item_b"]) for r in plan.tasks.to_pylist()] == [("b", "c"), ("a", "b")]
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    with pytest.raises(InputDataError, match="columns a, b"):
        plan_tasks(candidates, ingest, ExtractSection(tasks=[LlmTask.PAIR], pairs_path=bad), "m")


CATALOG = {  # item id -> (title, price); the last four are in no queued pair, only in the catalog
    "s4": ("ENAMEL METAL DOOR SIGN 4", 2.0), "s9": ("ENAMEL METAL DOOR SIGN 9", 2.1),
    "oc": ("OCEAN SCENT CANDLE", 3.0), "va": ("VANILLA SCENT CANDLE", 3.0),
    "cu": ("DOLLY GIRL PAPER CUPS", 1.0), "pl": ("DOLLY GIRL PAPER PLATES", 1.0),
    "s1": ("ENAMEL METAL DOOR SIGN 1", 2.0),
    "od": ("OCEAN SCENT DIFFUSER", 5.0), "vd": ("VANILLA SCENT DIFFUSER", 5.0),
    "sc": ("SPACEBOY PAPER CUPS", 1.0), "sp": ("SPACEBOY PAPER PLATES", 1.0),
}


@pytest.fixture
def catalog_dirs(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "candidates" / "llm_queue").mkdir(parents=True)
    (tmp_path / "ingest" / "items").mkdir(parents=True)
    pairs = [("s4", "s9"), ("oc", "va"), ("cu", "pl"), ("s4", "oc")]
    pl.DataFrame({"item_a": [a for a, _ in pairs], "item_b": [b for _, b in pairs], "n_ab": [5, 4, 3, 2],
                  "lift": [2.0, 1.5, 1.2, 1.1], "first_seen": [SEEN] * 4, "last_seen": [SEEN] * 4,
                  "llm_rank": [0, 1, 2, 3]}).write_parquet(tmp_path / "candidates" / "llm_queue" / "part-0.parquet")
    pl.DataFrame({"item_id": list(CATALOG), "title": [t for t, _ in CATALOG.values()],
                  "category": [None] * len(CATALOG), "brand": [None] * len(CATALOG),
                  "price": [p for _, p in CATALOG.values()]},
                 schema_overrides={"category": pl.String, "brand": pl.String}
                 ).write_parquet(tmp_path / "ingest" / "items" / "part-0.parquet")
    return tmp_path / "candidates", tmp_path / "ingest"


def test_the_prefilter_answers_confident_variants_learned_from_the_whole_catalog(
        catalog_dirs: tuple[Path, Path]) -> None:
    plan = plan_tasks(*catalog_dirs, ExtractSection(tasks=[LlmTask.PAIR], max_pairs=None), "m")
    answered = plan.prefiltered.to_pylist()
    # the candles are sure only thanks to the diffusers, which no queued pair holds (see below)
    assert [(r["item_a"], r["item_b"]) for r in answered] == [("s4", "s9"), ("oc", "va")]
    assert [(r["item_a"], r["item_b"]) for r in plan.tasks.to_pylist()] == [("cu", "pl"), ("s4", "oc")]
    assert plan.counts["prefiltered_pairs"] == 2 and plan.counts["queued_pairs"] == 4
    for row in answered:
        assert (row["model"], row["prompt_version"], row["source"]) == (PREFILTER_MODEL, PREFILTER_VERSION,
                                                                         "prefilter")
        answer = PairAnswer.model_validate_json(row["answer_json"])
        assert answer.relation == "variant" and answer.confidence >= CONFIDENT_THRESHOLD
        assert answer.rationale.startswith("pre-filter: variant (") and "titles differ only in" in answer.rationale


def test_pairs_the_prefilter_answers_leave_the_budget_to_the_next_pairs(catalog_dirs: tuple[Path, Path]) -> None:
    plan = plan_tasks(*catalog_dirs, ExtractSection(tasks=[LlmTask.PAIR], max_pairs=1), "m")
    # the queue's first two pairs need no model, so the one question goes to the third (cu/pl)
    assert [(r["item_a"], r["item_b"]) for r in plan.prefiltered.to_pylist()] == [("s4", "s9"), ("oc", "va")]
    assert [(r["item_a"], r["item_b"]) for r in plan.tasks.to_pylist()] == [("cu", "pl")]
    assert plan.counts["queued_pairs"] == 3 and plan.counts["deepest_queue_rank"] == 2  # ranks from 0 here


def test_without_the_prefilter_every_pair_is_a_question(catalog_dirs: tuple[Path, Path]) -> None:
    plan = plan_tasks(*catalog_dirs, ExtractSection(tasks=[LlmTask.PAIR], max_pairs=None, prefilter=False), "m")
    assert plan.tasks.num_rows == 4 and plan.prefiltered.num_rows == 0 and plan.counts["prefiltered_pairs"] == 0


def test_the_title_structure_comes_from_the_whole_catalog_not_the_queue(catalog_dirs: tuple[Path, Path]) -> None:
    candidates, ingest = catalog_dirs
    queued = pl.read_parquet(ingest / "items").filter(~pl.col("item_id").is_in(["od", "vd"]))
    queued.write_parquet(ingest / "items" / "part-0.parquet")
    plan = plan_tasks(candidates, ingest, ExtractSection(tasks=[LlmTask.PAIR], max_pairs=None), "m")
    assert [(r["item_a"], r["item_b"]) for r in plan.prefiltered.to_pylist()] == [("s4", "s9")]
