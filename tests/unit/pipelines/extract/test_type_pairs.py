"""Type-pair questions: mined item pairs aggregated to product-type pairs, asked best first."""

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from kg.schema import PRODUCT_TYPE, AnswerStatus, LlmTask, RelationType, concept_id
from pipelines.extract.config import ExtractSection
from pipelines.extract.prompts import PROMPTS
from pipelines.extract.records import RecordBuilder
from pipelines.extract.tasks import plan_tasks
from pipelines.refine.config import ProductTypeRules

SEEN = datetime(2026, 1, 1, tzinfo=UTC)
TITLES = {"t1": "Alto Dome Tent, Small", "t2": "Pace Dome Tent, Large", "s1": "Alto Tent Stakes, Pack of 10",
          "s2": "Pace Tent Stakes, Pack of 25", "k1": "Brevo Camp Kettle, Red", "k2": "Lumo Camp Kettle, Blue"}
TENT, STAKES, KETTLE = (concept_id(PRODUCT_TYPE, t) for t in ("dome tent", "tent stakes", "camp kettle"))


def _dirs(root: Path) -> tuple[Path, Path]:
    (root / "candidates" / "llm_queue").mkdir(parents=True)
    (root / "candidates" / "pairs").mkdir()
    (root / "ingest" / "items").mkdir(parents=True)
    pairs = pl.DataFrame({"item_a": ["s1", "s2", "k1", "t1"], "item_b": ["t1", "t2", "t1", "t2"],
                          "n_ab": [6, 3, 2, 9], "lift": [3.0, 2.0, 1.1, 5.0], "first_seen": [SEEN] * 4,
                          "last_seen": [SEEN] * 4, "llm_rank": [1, 2, 3, 4], "score": [0.4, 0.3, 0.2, 0.5]})
    pairs.write_parquet(root / "candidates" / "pairs" / "part-0.parquet")
    pairs.drop("score").write_parquet(root / "candidates" / "llm_queue" / "part-0.parquet")
    pl.DataFrame({"item_id": list(TITLES), "title": list(TITLES.values()), "category": [None] * 6,
                  "brand": [None] * 6}, schema_overrides={"category": pl.String, "brand": pl.String}
                 ).write_parquet(root / "ingest" / "items" / "part-0.parquet")
    return root / "candidates", root / "ingest"


def _plan(root: Path, budget: int | None):  # type: ignore[no-untyped-def]
    settings = ExtractSection(tasks=[LlmTask.TYPE_PAIR], max_type_pairs=budget)
    return plan_tasks(*_dirs(root), settings, "m", ProductTypeRules(min_items=2))


def test_type_pairs_sum_their_item_pairs_and_leave_pairs_within_a_type_out(tmp_path: Path) -> None:
    plan = _plan(tmp_path, None)
    rows = plan.type_pairs.select("type_a", "type_b", "item_pairs", "n_ab").rows()
    # t1-t2 (both tents) is no type question; s1-t1 + s2-t2 are one type pair
    assert rows == [(TENT, STAKES, 2, 9), (KETTLE, TENT, 1, 2)]
    assert plan.counts["product_types"] == 3 and plan.counts["mined_type_pairs"] == 2


def test_the_budget_asks_the_type_pairs_with_the_most_baskets_with_example_titles(tmp_path: Path) -> None:
    tasks = _plan(tmp_path, 1).tasks.to_pylist()
    assert [(t["task"], t["item_a"], t["item_b"], t["n_ab"]) for t in tasks] == [
        (LlmTask.TYPE_PAIR.value, TENT, STAKES, 9)]
    shown = json.loads(tasks[0]["input_json"])
    assert shown["a"] == {"type": "dome tent", "examples": [TITLES["t1"], TITLES["t2"]]}
    assert tasks[0]["prompt_version"] == PROMPTS[LlmTask.TYPE_PAIR].version
    prompt = PROMPTS[LlmTask.TYPE_PAIR].messages(shown)[-1]["content"]
    assert prompt.startswith("A = product type: dome tent (e.g. Alto Dome Tent, Small;")


def test_without_type_rules_no_type_pair_is_asked(tmp_path: Path) -> None:
    settings = ExtractSection(tasks=[LlmTask.TYPE_PAIR])
    plan = plan_tasks(*_dirs(tmp_path), settings, "m")
    assert plan.tasks.num_rows == 0 and plan.type_pairs.height == 0


def test_a_complement_answer_is_one_relation_between_the_two_types() -> None:
    builder = RecordBuilder("run1", min_confidence=0.5)
    answer = {"status": AnswerStatus.OK.value, "task": LlmTask.TYPE_PAIR.value, "item_a": TENT,
              "item_b": STAKES, "n_ab": 9, "lift": 5.0, "first_seen": SEEN, "last_seen": SEEN, "key": "k",
              "model": "m", "prompt_version": "v"}
    builder.add({**answer, "answer_json": '{"relation":"complement","confidence":0.9,"rationale":"pitching"}'})
    builder.add({**answer, "key": "k2", "answer_json": '{"relation":"unrelated","confidence":0.9,"rationale":"x"}'})
    builder.add({**answer, "key": "k3", "answer_json": '{"relation":"substitute","confidence":0.2,"rationale":"x"}'})
    assert [(r["type"], r["head"], r["tail"], r["support"]) for r in builder.relations] == [
        (RelationType.TYPE_COMPLEMENTS, TENT, STAKES, 9)]
