"""From answers to graph input: relations, concepts and facts, plus the run's accounting.

A pair answer becomes item-item relations (a complement in the direction the model gave, both
ways when it said 'both' or gave none; substitutes and variants once, unordered); a commonsense
answer becomes item-concept relations with canonical concept ids; a facts answer becomes text
for the embedding stage. Every relation's evidence id is the answer's cache key, i.e. a hash of
(model, prompt version, input): the same answer loaded again, by any run, is counted once.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

from kg.schema import (
    PHRASE_TRIM,
    AnswerSource,
    AnswerStatus,
    Concept,
    ItemFacts,
    LlmTask,
    Relation,
    RelationType,
    concept_id,
    concept_text,
    relation_id,
)
from pipelines.extract.answers import CommonsenseAnswer, PairAnswer, TypePairAnswer
from pipelines.extract.config import ExtractSection

PAIR_TYPES = {"complement": RelationType.COMPLEMENTS, "substitute": RelationType.SUBSTITUTES,
              "variant": RelationType.VARIANT_OF}
# Commonsense answer field -> (relation type, concept kind).
COMMONSENSE_FIELDS: dict[str, tuple[RelationType, str]] = {
    "used_for": (RelationType.USED_FOR, "function"),
    "used_by": (RelationType.USED_BY, "audience"),
    "used_in": (RelationType.USED_IN, "location"),
    "capable_of": (RelationType.CAPABLE_OF, "capability"),
    "is_a": (RelationType.IS_A, "category"),
    "used_with": (RelationType.USED_WITH, "companion"),
}


def _relation(head: str, kind: RelationType, tail: str, answer: dict[str, Any], run_id: str,
              **fields: Any) -> dict[str, Any]:
    fields.setdefault("support", 1)
    return Relation(
        id=relation_id(head, kind, tail), head=head, type=kind, tail=tail,
        model=answer["model"], prompt_version=answer["prompt_version"], run_id=run_id,
        evidence_id=answer["key"], **fields,
    ).model_dump(mode="python")


def pair_relations(answer: dict[str, Any], run_id: str) -> Iterator[dict[str, Any]]:
    """Relations stated by one ok pair answer."""
    parsed = PairAnswer.model_validate_json(answer["answer_json"])
    kind = PAIR_TYPES.get(parsed.relation)
    if kind is None:
        return
    a, b = answer["item_a"], answer["item_b"]
    if kind is RelationType.COMPLEMENTS:
        ends = {"a_to_b": [(a, b)], "b_to_a": [(b, a)]}.get(parsed.direction, [(a, b), (b, a)])
    else:
        ends = [(min(a, b), max(a, b))]
    for head, tail in ends:
        yield _relation(head, kind, tail, answer, run_id, confidence=parsed.confidence,
                        lift=answer["lift"], first_seen=answer["first_seen"], last_seen=answer["last_seen"],
                        rationale=parsed.rationale)


TYPE_PAIR_TYPES = {"complement": RelationType.TYPE_COMPLEMENTS, "substitute": RelationType.TYPE_SUBSTITUTES}


def type_pair_relations(answer: dict[str, Any], run_id: str) -> Iterator[dict[str, Any]]:
    """The relation between two product types (ids in item_a < item_b) one ok type-pair answer states.

    Stored once, from the smaller type id: an answer says the types are used together, not which
    one creates the need for the other.
    """
    parsed = TypePairAnswer.model_validate_json(answer["answer_json"])
    if (kind := TYPE_PAIR_TYPES.get(parsed.relation)) is not None:
        yield _relation(answer["item_a"], kind, answer["item_b"], answer, run_id,
                        confidence=parsed.confidence, lift=answer["lift"], first_seen=answer["first_seen"],
                        last_seen=answer["last_seen"], rationale=parsed.rationale,
                        support=int(answer["n_ab"] or 0))


def commonsense_relations(answer: dict[str, Any], run_id: str) -> Iterator[tuple[dict[str, Any], str, str]]:
    """(relation, concept kind, phrasing) for each non-empty field of one commonsense answer."""
    parsed = CommonsenseAnswer.model_validate_json(answer["answer_json"])
    for field, (kind, concept_kind) in COMMONSENSE_FIELDS.items():
        phrase = getattr(parsed, field).strip(PHRASE_TRIM)
        text = concept_text(phrase)
        if not text:
            continue
        tail = concept_id(concept_kind, text)
        relation = _relation(answer["item_a"], kind, tail, answer, run_id, confidence=parsed.confidence,
                             tail_text=phrase)
        yield relation, concept_kind, phrase


class RecordBuilder:
    """Accumulates graph records from answer rows (one pass; concepts are merged by id)."""

    def __init__(self, run_id: str, min_confidence: float) -> None:
        self.run_id = run_id
        self.min_confidence = min_confidence
        self.relations: list[dict[str, Any]] = []
        self.facts: list[dict[str, Any]] = []
        self._phrasings: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)

    def add(self, answer: dict[str, Any]) -> None:
        """Take one answer row; failures contribute nothing here (they have their own table)."""
        if answer["status"] != AnswerStatus.OK:
            return
        task = LlmTask(answer["task"])
        if task in (LlmTask.PAIR, LlmTask.TYPE_PAIR):
            stated = pair_relations if task is LlmTask.PAIR else type_pair_relations
            self.relations.extend(r for r in stated(answer, self.run_id)
                                  if r["confidence"] >= self.min_confidence)
        elif task is LlmTask.COMMONSENSE:
            for relation, kind, phrase in commonsense_relations(answer, self.run_id):
                if relation["confidence"] >= self.min_confidence:
                    self.relations.append(relation)
                    self._phrasings[(kind, relation["tail"])][phrase] += 1
        else:
            facts = json.loads(answer["answer_json"])["facts"]
            self.facts.append(ItemFacts(item_id=answer["item_a"], facts=facts, model=answer["model"],
                                        prompt_version=answer["prompt_version"], key=answer["key"])
                              .model_dump())

    def concepts(self) -> list[dict[str, Any]]:
        """One Concept per id; other phrasings of it become aliases."""
        rows = []
        for (kind, cid), phrasings in sorted(self._phrasings.items()):
            text = cid.split(":", 1)[1]
            aliases = sorted({p for p in phrasings if p != text})
            rows.append(Concept(id=cid, text=text, kind=kind, aliases=aliases).model_dump())
        return rows


class Accounting:
    """What the extraction cost and saved: requests, tokens, cache and pre-filter hits, failures."""

    def __init__(self) -> None:
        self.by_source: Counter[str] = Counter()
        self.totals: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.labels: Counter[str] = Counter()

    def add(self, answer: dict[str, Any]) -> None:
        """Count one answer row."""
        self.by_source[answer["source"]] += 1
        for name in ("requests", "attempts", "prompt_tokens", "completion_tokens"):
            self.totals[name] += int(answer[name] or 0)
        if answer["status"] == AnswerStatus.FAILED:
            self.failures[(answer["reason"] or "unknown").split(":", 1)[0]] += 1
        elif answer["task"] in (LlmTask.PAIR, LlmTask.TYPE_PAIR):
            prefix = "" if answer["task"] == LlmTask.PAIR else "type_"
            self.labels[prefix + json.loads(answer["answer_json"])["relation"]] += 1

    def summary(self, wall_s: float) -> dict[str, int | float]:
        """Flat figures for the manifest."""
        asked = self.by_source[AnswerSource.LLM]
        return {
            "questions": sum(self.by_source.values()),
            "asked_llm": asked,
            "cache_hits": self.by_source[AnswerSource.CACHE],
            "prefilter_hits": self.by_source[AnswerSource.PREFILTER],
            "failures": sum(self.failures.values()),
            **{k: self.totals[k] for k in ("requests", "attempts", "prompt_tokens", "completion_tokens")},
            "wall_s": round(wall_s, 3),
            "completion_tokens_per_s": round(self.totals["completion_tokens"] / wall_s, 2) if wall_s else 0.0,
            **{f"pairs_{label}": n for label, n in sorted(self.labels.items())},
        }

    def cost(self, settings: ExtractSection, relations: int, answer_wall_s: float) -> dict[str, float | str]:
        """What the answers cost at `settings.price`; empty without a price.

        Tokens (HTTP backends) at the price per 1k; for vLLM, the GPU-hours its engines held
        while answering: `answer_wall_s` x engines x GPUs per engine (see `LlmPrice`). Per
        question is over the questions sent to the model (the cache and the pre-filter cost
        nothing): the price of asking one more. Per relation is over every relation the stage
        kept (written past `min_confidence`, cached and pre-filter ones included): what one
        cost this run. A ratio with nothing to divide by is left out.
        """
        price = settings.price
        if price is None:
            return {}
        figures: dict[str, float | str] = {}
        if price.gpu_hour is not None:
            gpu_hours = answer_wall_s / 3600 * settings.workers * settings.vllm_tensor_parallel_size
            total = gpu_hours * price.gpu_hour
            figures["gpu_hours"] = _figure(gpu_hours)
        else:
            total = (self.totals["prompt_tokens"] * (price.prompt_per_1k or 0.0)
                     + self.totals["completion_tokens"] * (price.completion_per_1k or 0.0)) / 1000
        figures |= {"llm_cost": _figure(total), "llm_cost_currency": price.currency}
        if asked := self.by_source[AnswerSource.LLM]:
            figures["llm_cost_per_question"] = _figure(total / asked)
        if relations:
            figures["llm_cost_per_relation"] = _figure(total / relations)
        return figures


def _figure(value: float) -> float:
    """Six significant digits: a cost per question can be far below a cent."""
    return float(f"{value:.6g}")

