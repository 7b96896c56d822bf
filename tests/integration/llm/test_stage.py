"""The extraction stage on a real local Ray cluster against a real (scripted) HTTP server."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from kg.schema import LlmTask
from pipelines.extract.cache import AnswerCache
from pipelines.extract.config import ExtractSection
from pipelines.extract.job import run_extract
from pipelines.outputs import require_complete
from tests._support.chat_server import ChatServer, Reply, answer_for


@pytest.fixture
def server() -> Iterator[ChatServer]:
    chat = ChatServer(lambda body, n: Reply(answer_for(body)))
    yield chat
    chat.close()


def settings(server: ChatServer, cache: Path, **kw: Any) -> ExtractSection:
    return ExtractSection(backend="openai", base_url=server.base_url, model="scripted", cache_dir=str(cache),
                          max_pairs=30, max_items=4, retry_backoff_s=0.01, max_retries=1, batch_size=8, **kw)


def test_stage_writes_graph_input_and_a_rerun_asks_nothing(mined: Path, server: ChatServer, tmp_path: Path) -> None:
    price = {"prompt_per_1k": 0.5, "completion_per_1k": 2.0}  # the server reports 50 + 10 tokens a reply
    config = settings(server, tmp_path / "cache", workers=2, price=price)  # two actors share the cache
    report = run_extract(config, mined / "ingest", mined / "candidates", tmp_path / "x1", "run1")
    require_complete(tmp_path / "x1", "extract")
    details = report.details
    asked = int(details["asked_llm"])
    assert asked == len(server.requests) > 0
    assert details["prefilter_hits"] > 0 and asked + details["prefilter_hits"] == details["questions"]
    # 30 pair questions for the LLM (the pre-filter's answers leave the budget to the next pairs)
    assert details["questions"] == 30 + details["prefilter_hits"] + 4 * 2  # + items x (commonsense, facts)
    assert details["deepest_queue_rank"] == 30 + details["prefilter_hits"]
    answers = pl.read_parquet(tmp_path / "x1" / "answers")
    assert answers["key"].n_unique() == answers.height == details["questions"]
    relations = pl.read_parquet(tmp_path / "x1" / "relations")
    assert set(relations["type"]) >= {"COMPLEMENTS", "VARIANT_OF", "USED_FOR"}
    assert relations["id"].n_unique() == relations.height
    cost = len(server.requests) * (50 * 0.5 + 10 * 2.0) / 1000
    assert details["llm_cost"] == pytest.approx(cost) and details["llm_cost_currency"] == "USD"
    assert details["llm_cost_per_question"] == pytest.approx(cost / asked, rel=1e-5)
    assert details["llm_cost_per_relation"] == pytest.approx(cost / relations.height, rel=1e-5)
    assert set(relations.filter(pl.col("type") == "VARIANT_OF")["model"]) == {"prefilter:title-variant"}
    assert pl.read_parquet(tmp_path / "x1" / "facts").height == 4
    assert pl.read_parquet(tmp_path / "x1" / "concepts").height > 0
    assert AnswerCache(str(tmp_path / "cache")).keys() == set(
        answers.filter(pl.col("source") == "llm")["key"])

    again = run_extract(config, mined / "ingest", mined / "candidates", tmp_path / "x2", "run2")
    assert again.details["asked_llm"] == 0 and again.details["cache_hits"] == asked
    assert again.details["llm_cost"] == 0 and "llm_cost_per_question" not in again.details  # the cache is free
    assert len(server.requests) == asked
    assert pl.read_parquet(tmp_path / "x2" / "relations").drop("run_id").sort("id", "evidence_id").equals(
        relations.drop("run_id").sort("id", "evidence_id"))

    known = AnswerCache(str(tmp_path / "cache")).keys()
    wider = run_extract(settings(server, tmp_path / "cache").model_copy(update={"max_pairs": 40}),
                        mined / "ingest", mined / "candidates", tmp_path / "x3", "run3")
    new_questions = set(pl.read_parquet(tmp_path / "x3" / "tasks")["key"]) - known
    assert 0 < wider.details["asked_llm"] == len(new_questions)  # only what was not asked before
    assert len(server.requests) == asked + len(new_questions)


def test_a_server_that_goes_away_fails_only_its_rows_and_the_next_run_asks_only_those(
        mined: Path, tmp_path: Path) -> None:
    flaky = ChatServer(lambda body, n: Reply(status=503) if n > 5 else Reply(answer_for(body)))
    try:
        config = settings(flaky, tmp_path / "cache", tasks=[LlmTask.PAIR], concurrency=1)
        first = run_extract(config, mined / "ingest", mined / "candidates", tmp_path / "x1", "run1")
    finally:
        flaky.close()
    failed = int(first.details["failures"])
    assert failed > 0 and first.bad_rows == {"answers: transport": failed}
    failures = pl.read_parquet(tmp_path / "x1" / "failures")
    assert failures.height == failed and failures["reason"].str.starts_with("transport: gave up").all()
    healthy = ChatServer(lambda body, n: Reply(answer_for(body)))
    try:
        second = run_extract(settings(healthy, tmp_path / "cache", tasks=[LlmTask.PAIR]),
                             mined / "ingest", mined / "candidates", tmp_path / "x2", "run2")
    finally:
        healthy.close()
    assert second.details["asked_llm"] == failed == len(healthy.requests)
    assert second.details["failures"] == 0


def test_score_command_prints_both_methods_on_the_ground_truth(mined: Path, server: ChatServer,
                                                                tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    run_extract(settings(server, tmp_path / "cache"), mined / "ingest", mined / "candidates", tmp_path / "x",
                "run1")
    result = CliRunner().invoke(app, ["extract", "score", "--pred", str(tmp_path / "x"), "--labels",
                                      str(mined / "raw" / "ground_truth.parquet")], terminal_width=200)
    assert result.exit_code == 0, result.output
    for row in ("llm", "cooccurr", "complement", "variant", "used_for"):
        assert row in result.output
    missing = CliRunner().invoke(app, ["extract", "score", "--pred", str(tmp_path / "nowhere"), "--labels",
                                       str(mined / "raw" / "ground_truth.parquet")])
    assert missing.exit_code == 2 and "no extract answers here" in missing.output


def test_a_rerun_with_nothing_to_ask_keeps_no_answers_of_the_earlier_run(mined: Path, server: ChatServer,
                                                                          tmp_path: Path) -> None:
    out = tmp_path / "x"
    first = run_extract(settings(server, tmp_path / "cache"), mined / "ingest", mined / "candidates", out, "run1")
    assert first.details["asked_llm"] > 0
    nothing = settings(server, tmp_path / "cache").model_copy(update={"tasks": []})
    again = run_extract(nothing, mined / "ingest", mined / "candidates", out, "run2")
    assert again.details["questions"] == 0
    assert pl.read_parquet(out / "answers").height == 0
    assert pl.read_parquet(out / "relations").height == 0
