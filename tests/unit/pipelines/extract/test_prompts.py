"""Prompts: shared prefix first, schema per answer, versions that follow the content."""

import dataclasses

from kg.schema import LlmTask
from pipelines.extract.prompts import PAIR_PROMPT, PROMPTS, PromptSpec, cache_key, canonical_json

PAIR = {"a": {"title": "Tent"}, "b": {"title": "Tent Stakes"}}


def test_every_prompt_has_a_schema_and_a_versioned_name() -> None:
    assert set(PROMPTS) == set(LlmTask)
    for task, spec in PROMPTS.items():
        assert spec.version.startswith(f"{task.value}.v{spec.major}+")
        assert spec.schema["additionalProperties"] is False


def test_variable_part_comes_last_after_a_shared_prefix() -> None:
    one = PAIR_PROMPT.messages(PAIR)
    other = PAIR_PROMPT.messages({"a": {"title": "Mug, Red"}, "b": {"title": "Mug, Blue"}})
    assert one[:-1] == other[:-1]  # system + few-shot turns are identical: the prefix cache's share
    assert one[-1]["role"] == "user" and "Tent Stakes" in one[-1]["content"]
    assert [m["role"] for m in one[:3]] == ["system", "user", "assistant"]


def test_editing_a_prompt_changes_its_version_and_so_the_cache_key() -> None:
    edited = PromptSpec(task=PAIR_PROMPT.task, major=PAIR_PROMPT.major, system=PAIR_PROMPT.system + " Be brief.",
                        examples=PAIR_PROMPT.examples, answer_model=PAIR_PROMPT.answer_model)
    assert edited.version != PAIR_PROMPT.version
    same = dataclasses.replace(PAIR_PROMPT)
    assert same.version == PAIR_PROMPT.version
    text = canonical_json(PAIR)
    assert cache_key("m", PAIR_PROMPT.version, text) != cache_key("m", edited.version, text)
    assert cache_key("m", PAIR_PROMPT.version, text) != cache_key("other", PAIR_PROMPT.version, text)


def test_canonical_json_ignores_key_order() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == canonical_json({"a": "é", "b": 1}) == '{"a":"é","b":1}'
