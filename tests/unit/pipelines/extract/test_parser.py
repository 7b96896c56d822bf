"""The answer parser turns any text into an answer or a reason, never an exception."""

import json
import random

import pytest

from pipelines.extract.answers import (
    MAX_ANSWER_CHARS,
    CommonsenseAnswer,
    FactsAnswer,
    PairAnswer,
    ParseFailure,
    parse_answer,
)

GOOD_PAIR = {"relation": "complement", "direction": "a_to_b", "confidence": 0.8, "rationale": "used together"}
GOOD_COMMONSENSE = {"used_for": "camping", "used_by": "hikers", "used_in": "campsite", "capable_of": "lighting",
                    "is_a": "lamp", "used_with": "tent", "confidence": 0.7}


def test_valid_answers_parse_even_with_fences_and_prose() -> None:
    assert parse_answer(json.dumps(GOOD_PAIR), PairAnswer) == PairAnswer(**GOOD_PAIR)
    fenced = "```json\n" + json.dumps(GOOD_COMMONSENSE) + "\n```"
    assert isinstance(parse_answer(fenced, CommonsenseAnswer), CommonsenseAnswer)
    chatty = "Sure! Here is the answer: " + json.dumps(GOOD_PAIR) + " Hope that helps."
    assert isinstance(parse_answer(chatty, PairAnswer), PairAnswer)


@pytest.mark.parametrize(("raw", "reason"), [
    (None, "empty answer"),
    ("   ", "empty answer"),
    ('{"relation": "complement", "direction": "a_to', "malformed JSON"),
    ("I cannot help with that request.", "refusal"),
    ("[1, 2, 3]", "malformed JSON"),
    ('{"relation": "friend", "direction": "none", "confidence": 0.5, "rationale": "x"}', "schema violation at relation"),
    ('{"relation": "variant", "direction": "none", "confidence": 7, "rationale": "x"}', "schema violation at confidence"),
    ('{"relation": "variant", "direction": "none", "confidence": 0.5}', "schema violation at rationale"),
    ('{"relation": "variant", "direction": "none", "confidence": 0.5, "rationale": "x", "extra": 1}',
     "schema violation at extra"),
    ("x" * (MAX_ANSWER_CHARS + 1), "answer too long"),
])
def test_broken_answers_become_reasons(raw: str | None, reason: str) -> None:
    result = parse_answer(raw, PairAnswer)
    assert isinstance(result, ParseFailure)
    assert result.reason.startswith(reason)


def _mutations(rng: random.Random, good: str) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return good[: rng.randrange(len(good))]  # truncated
    if kind == 1:
        value = json.loads(good)
        key = rng.choice(list(value))
        value[key] = rng.choice([None, 3, [], {}, "x" * rng.randrange(1, 5000), True, -1.5, "complement"])
        return json.dumps(value)  # wrong types / values / huge strings
    if kind == 2:
        return "Answer:\n" + good + "\n" + "".join(rng.choice("{}[]\":,") for _ in range(20))  # trailing junk
    if kind == 3:
        position = rng.randrange(len(good))
        return good[:position] + rng.choice(['"', "}", "{", "\\", "\x00", "\ud800"]) + good[position:]
    if kind == 4:
        return "{" * rng.randrange(1, 5000)  # pathological nesting
    if kind == 5:
        return json.dumps({"answer": json.loads(good)})  # wrapped
    if kind == 6:
        return "".join(chr(rng.randrange(0, 0x2FFF)) for _ in range(rng.randrange(0, 300)))  # noise
    if kind == 7:
        return "[" * 3000 + "]" * 3000  # deep arrays
    return good.replace('"', "'")  # python-style quotes


def test_fuzzed_answers_never_crash_the_parser() -> None:
    rng = random.Random(1234)
    goods = [(json.dumps(GOOD_PAIR), PairAnswer), (json.dumps(GOOD_COMMONSENSE), CommonsenseAnswer),
             (json.dumps({"facts": "A lamp."}), FactsAnswer)]
    outcomes = {"ok": 0, "failed": 0}
    for _ in range(3000):
        good, model = rng.choice(goods)
        result = parse_answer(_mutations(rng, good), model)
        assert isinstance(result, model | ParseFailure)
        outcomes["ok" if isinstance(result, model) else "failed"] += 1
        if isinstance(result, ParseFailure):
            assert result.reason and len(result.reason) < 400
    assert outcomes["failed"] > 1000  # the fuzzer really produced broken answers
