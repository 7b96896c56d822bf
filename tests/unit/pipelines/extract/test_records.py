"""Answers become relations, concepts and facts; accounting adds up, and prices it."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from kg.schema import AnswerSource, AnswerStatus, Relation, RelationType, relation_id
from pipelines.extract.config import ExtractSection
from pipelines.extract.records import Accounting, RecordBuilder

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def answer(task: str, body: dict[str, Any] | None, *, a: str = "P1", b: str | None = "P2",
           source: str = "llm", reason: str | None = None, key: str = "k1") -> dict[str, Any]:
    return {"key": key, "task": task, "item_a": a, "item_b": b, "model": "m", "prompt_version": "v",
            "lift": 3.0, "first_seen": T0, "last_seen": T0, "source": source,
            "status": AnswerStatus.OK if body else AnswerStatus.FAILED,
            "answer_json": json.dumps(body) if body else None, "reason": reason,
            "requests": 1, "attempts": 1, "prompt_tokens": 100, "completion_tokens": 20}


def pair(relation: str, direction: str = "none", confidence: float = 0.8) -> dict[str, Any]:
    return {"relation": relation, "direction": direction, "confidence": confidence, "rationale": "r"}


@pytest.mark.parametrize(("body", "edges"), [
    (pair("complement", "a_to_b"), [("P1", "COMPLEMENTS", "P2")]),
    (pair("complement", "b_to_a"), [("P2", "COMPLEMENTS", "P1")]),
    (pair("complement", "both"), [("P1", "COMPLEMENTS", "P2"), ("P2", "COMPLEMENTS", "P1")]),
    (pair("substitute"), [("P1", "SUBSTITUTES", "P2")]),
    (pair("variant"), [("P1", "VARIANT_OF", "P2")]),
    (pair("unrelated"), []),
])
def test_pair_answers_become_item_relations(body: dict[str, Any], edges: list[tuple[str, str, str]]) -> None:
    builder = RecordBuilder("run1", min_confidence=0.0)
    builder.add(answer("pair", body))
    assert [(r["head"], r["type"].value, r["tail"]) for r in builder.relations] == edges
    for r in builder.relations:
        Relation.model_validate(r)
        assert r["evidence_id"] == "k1" and r["lift"] == 3.0 and r["first_seen"] == T0 and r["run_id"] == "run1"
        assert r["id"] == relation_id(r["head"], RelationType(r["type"]), r["tail"])


def test_commonsense_answers_become_concept_relations_with_aliases() -> None:
    builder = RecordBuilder("run1", min_confidence=0.0)
    fields = {"used_for": "Camping.", "used_by": "hikers", "used_in": "", "capable_of": "lighting a tent",
              "is_a": "lamp", "used_with": "tents", "confidence": 0.9}
    builder.add(answer("commonsense", fields, b=None))
    builder.add(answer("commonsense", {**fields, "used_for": "camping"}, a="P3", b=None, key="k2"))
    types = sorted(r["type"].value for r in builder.relations if r["head"] == "P1")
    assert types == ["CAPABLE_OF", "IS_A", "USED_BY", "USED_FOR", "USED_WITH"]  # empty used_in skipped
    used_for = [r for r in builder.relations if r["type"] is RelationType.USED_FOR]
    assert {r["tail"] for r in used_for} == {"function:camping"}
    assert {r["tail_text"] for r in used_for} == {"Camping", "camping"}
    concept = next(c for c in builder.concepts() if c["id"] == "function:camping")
    assert concept == {"id": "function:camping", "text": "camping", "kind": "function", "aliases": ["Camping"]}


def test_facts_failures_and_confidence_threshold() -> None:
    builder = RecordBuilder("run1", min_confidence=0.5)
    builder.add(answer("facts", {"facts": "A lamp."}, b=None))
    builder.add(answer("pair", None, reason="malformed JSON: x"))
    builder.add(answer("pair", pair("variant", confidence=0.4)))
    assert builder.facts == [{"item_id": "P1", "facts": "A lamp.", "model": "m", "prompt_version": "v", "key": "k1"}]
    assert builder.relations == []


def test_accounting_sums_costs_and_counts_sources() -> None:
    accounting = Accounting()
    accounting.add(answer("pair", pair("variant")))
    accounting.add({**answer("pair", pair("variant"), source=AnswerSource.CACHE), "requests": 0, "attempts": 0,
                    "prompt_tokens": 0, "completion_tokens": 0})
    accounting.add({**answer("pair", pair("variant"), source=AnswerSource.PREFILTER), "requests": 0,
                    "attempts": 0, "prompt_tokens": 0, "completion_tokens": 0})
    accounting.add(answer("pair", None, reason="transport: HTTP 503"))
    summary = accounting.summary(wall_s=2.0)
    assert summary["questions"] == 4 and summary["asked_llm"] == 2 and summary["cache_hits"] == 1
    assert summary["prefilter_hits"] == 1 and summary["failures"] == 1 and summary["requests"] == 2
    assert summary["completion_tokens"] == 40 and summary["completion_tokens_per_s"] == 20.0
    assert summary["pairs_variant"] == 3
    assert accounting.failures == {"transport": 1}


def _priced(**fields: Any) -> ExtractSection:
    return ExtractSection.model_validate(fields)


def _answered() -> Accounting:
    """Two questions asked (one failed: still paid for), one from the cache: 200 + 40 tokens."""
    accounting = Accounting()
    accounting.add(answer("pair", pair("variant")))
    accounting.add(answer("pair", None, reason="malformed JSON: x"))
    accounting.add({**answer("pair", pair("variant"), source=AnswerSource.CACHE), "requests": 0, "attempts": 0,
                    "prompt_tokens": 0, "completion_tokens": 0})
    return accounting


def test_http_backends_cost_their_tokens_per_question_asked_and_per_relation_kept() -> None:
    settings = _priced(price={"prompt_per_1k": 0.5, "completion_per_1k": 2.0, "currency": "EUR"})
    cost = _answered().cost(settings, relations=4, answer_wall_s=30.0)  # wall time plays no part
    assert cost == {"llm_cost": 0.18, "llm_cost_currency": "EUR",  # 200 * 0.5/1k + 40 * 2/1k
                    "llm_cost_per_question": 0.09, "llm_cost_per_relation": 0.045}


def test_vllm_costs_wall_time_times_engines_times_gpus_per_engine() -> None:
    settings = _priced(backend="vllm", model="m", workers=4, vllm_tensor_parallel_size=2, price={"gpu_hour": 3.0})
    cost = _answered().cost(settings, relations=0, answer_wall_s=1800.0)  # 0.5 h x 4 engines x 2 GPUs
    assert cost == {"gpu_hours": 4.0, "llm_cost": 12.0, "llm_cost_currency": "USD", "llm_cost_per_question": 6.0}


def test_no_price_no_cost_and_tiny_costs_keep_their_digits() -> None:
    assert _answered().cost(ExtractSection(), relations=4, answer_wall_s=1.0) == {}
    settings = _priced(price={"prompt_per_1k": 0.00015, "completion_per_1k": 0.0006})
    cost = Accounting().cost(settings, relations=0, answer_wall_s=0.0)
    assert cost == {"llm_cost": 0.0, "llm_cost_currency": "USD"}  # nothing asked: no ratios
    cost = _answered().cost(settings, relations=3, answer_wall_s=0.0)
    assert cost["llm_cost"] == 5.4e-05 and cost["llm_cost_per_relation"] == 1.8e-05


@pytest.mark.parametrize(("fields", "says"), [
    ({"price": {"gpu_hour": 2.0}}, "priced per token"),
    ({"price": {"prompt_per_1k": 0.1}}, "priced per token"),
    ({"backend": "vllm", "model": "m", "price": {"prompt_per_1k": 0.1, "completion_per_1k": 0.2}},
     "priced per GPU-hour"),
    ({"backend": "vllm", "model": "m", "price": {"gpu_hour": 2.0, "prompt_per_1k": 0.1}}, "priced per GPU-hour"),
    ({"price": {"prompt_per_1k": -1, "completion_per_1k": 0.2}}, "greater than or equal to 0"),
    ({"price": {"gpu_hours": 2.0}}, "Extra inputs are not permitted"),
])
def test_a_price_the_backend_cannot_use_is_refused(fields: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        ExtractSection.model_validate(fields)
