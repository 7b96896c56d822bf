"""What an LLM may answer, and the parser that turns any text into an answer or a reason.

The answer models are the JSON schemas sent with every request (constrained decoding where the
backend supports it) and the validators applied to every reply, whatever the backend did. The
parser never raises: broken output is data (a `ParseFailure` with a reason), because small
models and cut-off generations produce it routinely.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_ANSWER_CHARS = 20_000
MAX_TAIL_CHARS = 80

PairLabel = Literal["complement", "substitute", "variant", "unrelated"]
Direction = Literal["a_to_b", "b_to_a", "both", "none"]


class Answer(BaseModel):
    """Base of every answer: unknown keys are a schema violation."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PairAnswer(Answer):
    """How two items relate (LLM-KERec's question)."""

    relation: PairLabel = Field(description="complement: bought to be used together; substitute: one "
                                "replaces the other; variant: the same product in another colour, size "
                                "or pack; unrelated: none of these.")
    direction: Direction = Field(description="For complements: a_to_b if buying A creates the need for "
                                 "B, b_to_a the reverse, both if mutual; none otherwise.")
    confidence: float = Field(ge=0.0, le=1.0, description="How sure, from 0 to 1.")
    rationale: str = Field(max_length=300, description="One short sentence saying why.")


class TypePairAnswer(Answer):
    """How two product types relate (LLM-KERec's entity-level question)."""

    relation: Literal["complement", "substitute", "unrelated"] = Field(
        description="complement: products of the two types are used together; substitute: one type "
        "replaces the other; unrelated: neither.")
    confidence: float = Field(ge=0.0, le=1.0, description="How sure, from 0 to 1.")
    rationale: str = Field(max_length=300, description="One short sentence saying why.")


class CommonsenseAnswer(Answer):
    """COSMO-style commonsense about one item; an empty string means 'does not apply'."""

    used_for: str = Field(max_length=MAX_TAIL_CHARS, description="The activity or purpose it serves.")
    used_by: str = Field(max_length=MAX_TAIL_CHARS, description="Who uses it (audience).")
    used_in: str = Field(max_length=MAX_TAIL_CHARS, description="Where or on what occasion.")
    capable_of: str = Field(max_length=MAX_TAIL_CHARS, description="What it can do.")
    is_a: str = Field(max_length=MAX_TAIL_CHARS, description="The kind of thing it is.")
    used_with: str = Field(max_length=MAX_TAIL_CHARS, description="Another kind of product it is used with.")
    confidence: float = Field(ge=0.0, le=1.0, description="How sure, from 0 to 1.")


class FactsAnswer(Answer):
    """KAR-style factual knowledge about one item, as text for the embedding stage."""

    facts: str = Field(min_length=1, max_length=400, description="Two or three short factual sentences.")


class ParseFailure(BaseModel):
    """Why a reply could not become an answer."""

    reason: str


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)
_REFUSAL = re.compile(r"\b(I can(?:not|'t)|I am unable|I'm unable|as an AI|I won't|I will not)\b",
                      re.IGNORECASE)


def _first_object(text: str) -> Any:
    """The first JSON value starting at the first '{' (prose before or after is tolerated)."""
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the answer")
    value, _ = json.JSONDecoder().raw_decode(text, start)
    return value


def parse_answer(raw: str | None, model: type[Answer]) -> Answer | ParseFailure:
    """Parse and validate one reply; never raises."""
    if raw is None or not raw.strip():
        return ParseFailure(reason="empty answer")
    if len(raw) > MAX_ANSWER_CHARS:
        return ParseFailure(reason=f"answer too long ({len(raw)} chars)")
    text = _FENCE.sub("", raw.strip())
    try:
        value = _first_object(text)
    except (ValueError, RecursionError) as e:
        if _REFUSAL.search(text):
            return ParseFailure(reason="refusal: " + text[:120])
        return ParseFailure(reason=f"malformed JSON: {str(e)[:160]}")
    if not isinstance(value, dict):
        return ParseFailure(reason=f"not a JSON object: {type(value).__name__}")
    try:
        return model.model_validate(value)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        return ParseFailure(reason=f"schema violation at {where}: {first['msg'][:160]}")
    except (RecursionError, TypeError, ValueError) as e:  # pathological nesting or values
        return ParseFailure(reason=f"schema violation: {str(e)[:160]}")
