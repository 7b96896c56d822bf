"""The run report's extraction section: the cost line appears exactly when a price was set."""

from pathlib import Path

import pytest

from pipelines.config import Settings
from pipelines.manifest import RunDirectory
from pipelines.report import StageReport
from pipelines.summary import render

EXTRACT = {"model": "m", "backend": "openai", "questions": 3, "asked_llm": 2, "cache_hits": 1,
           "prefilter_hits": 0, "failures": 0, "requests": 2, "prompt_tokens": 200, "completion_tokens": 40,
           "completion_tokens_per_s": 4.0, "wall_s": 10.0, "pairs_variant": 2}


def _report(tmp_path: Path, details: dict[str, float | int | str]) -> str:
    run = RunDirectory(tmp_path, Settings(), run_id="r1")
    run.record(StageReport(name="extract", rows={"questions": 3}, wall_s=10.0, details=details))
    return render(run)


@pytest.mark.parametrize(("cost", "line"), [
    ({}, None),
    ({"llm_cost": 0.18, "llm_cost_currency": "EUR", "llm_cost_per_question": 0.09,
      "llm_cost_per_relation": 0.045},
     "- LLM cost 0.18 EUR: 0.09 EUR per question asked, 0.045 EUR per relation kept"),
    ({"gpu_hours": 4.0, "llm_cost": 12.0, "llm_cost_currency": "USD", "llm_cost_per_question": 6.0},
     "- LLM cost 12 USD for 4 GPU-hours (answering wall time x engines x GPUs per engine): "
     "6 USD per question asked"),
    ({"llm_cost": 0.0, "llm_cost_currency": "USD"}, "- LLM cost 0 USD"),
])
def test_a_cost_line_exactly_when_a_price_was_set(tmp_path: Path, cost: dict[str, float | str],
                                               line: str | None) -> None:
    lines = _report(tmp_path, {**EXTRACT, **cost}).splitlines()
    costs = [n for n, text in enumerate(lines) if text.startswith("- LLM cost")]
    if line is None:
        assert costs == []
    else:
        assert [lines[n] for n in costs] == [line] and lines[costs[0] - 1].startswith("- pair answers")


@pytest.mark.parametrize(("spilled", "line"), [
    (0, None),
    (3 * 2**30, "- candidates: Ray's object store spilled 3,072 MiB to disk, read 1,024 MiB back "
                "(cluster-wide, while the stage ran)"),
])
def test_a_spilling_line_exactly_when_the_object_store_spilled(tmp_path: Path, spilled: int, line: str | None) -> None:
    run = RunDirectory(tmp_path, Settings(), run_id="r1")
    run.record(StageReport(name="candidates", rows={"pairs": 1}, details={
        "object_store_spilled_bytes": spilled, "object_store_restored_bytes": 2**30 if spilled else 0}))
    lines = render(run).splitlines()
    assert ("## Object spilling" in lines) == (line is not None)
    assert [text for text in lines if "object store spilled" in text] == ([line] if line else [])
