"""The OpenAI-compatible path against a real (scripted) HTTP server: retries, failures, keys."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from kg.errors import LlmUnavailable
from kg.schema import LlmTask
from pipelines.extract.answering import ask
from pipelines.extract.http_client import ChatClient
from pipelines.extract.prompts import PROMPTS, cache_key, canonical_json
from tests._support.chat_server import ChatServer, Reply, Script, answer_for


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ChatServer] = []

    def start(script: Script) -> ChatServer:
        servers.append(ChatServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def client(server: ChatServer, **kw: Any) -> ChatClient:
    settings = {"model": "scripted", "api_key": None, "response_format": "json_schema", "max_tokens": 64,
                "timeout_s": 2.0, "max_retries": 3, "backoff_s": 0.01, **kw}
    return ChatClient(base_url=server.base_url, **settings)


def task(kind: LlmTask = LlmTask.PAIR) -> dict[str, Any]:
    spec = PROMPTS[kind]
    text = canonical_json({"a": {"title": "Tent"}, "b": {"title": "Stakes"}} if kind is LlmTask.PAIR
                          else {"item": {"title": "Tent"}})
    return {"key": cache_key("scripted", spec.version, text), "task": kind.value, "item_a": "P1",
            "item_b": "P2" if kind is LlmTask.PAIR else None, "input_json": text, "model": "scripted",
            "prompt_version": spec.version, "n_ab": 3, "lift": 2.0, "first_seen": None, "last_seen": None}


def run_ask(chat: ChatClient, row: dict[str, Any], attempts: int = 2) -> tuple[dict[str, Any], Any]:
    async def go() -> tuple[dict[str, Any], Any]:
        async with chat.session() as session:
            return await ask(chat, session, row, attempts, 0.0, 0.7)
    return asyncio.run(go())


def test_429_and_5xx_are_retried_with_retry_after_then_answered(serve: Any) -> None:
    server = serve(lambda body, n: Reply(status=429, headers={"Retry-After": "0.05"}) if n == 1
                   else Reply(status=503) if n == 2 else Reply(answer_for(body)))
    row, entry = run_ask(client(server), task())
    assert row["status"] == "ok" and row["requests"] == 3 and row["attempts"] == 1
    assert entry is not None and entry.answer["relation"] == "complement"
    sent = server.requests[0]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"] == PROMPTS[LlmTask.PAIR].schema


def test_exhausted_retries_and_timeouts_are_transport_failures_not_cached(serve: Any) -> None:
    down = serve(lambda body, n: Reply(status=500))
    row, entry = run_ask(client(down), task())
    assert entry is None and row["status"] == "failed" and row["reason"].startswith("transport: gave up after 4")
    slow = serve(lambda body, n: Reply(answer_for(body), delay_s=1.0))
    row, entry = run_ask(client(slow, timeout_s=0.2, max_retries=1), task())
    assert entry is None and "TimeoutError" in row["reason"]


def test_invalid_answers_are_asked_again_warmer_then_recorded_with_the_raw_reply(serve: Any) -> None:
    fixed = serve(lambda body, n: Reply('{"relation": "complement", "direction"') if n == 1
                  else Reply(answer_for(body)))
    row, _ = run_ask(client(fixed), task())
    assert row["status"] == "ok" and row["attempts"] == 2
    assert [r["temperature"] for r in fixed.requests] == [0.0, 0.7]
    broken = serve(lambda body, n: Reply("I cannot answer that."))
    row, entry = run_ask(client(broken), task(LlmTask.FACTS), attempts=3)
    assert row["status"] == "failed" and row["reason"].startswith("refusal") and row["attempts"] == 3
    assert row["raw"] == "I cannot answer that." and entry is not None and entry.status == "failed"
    assert row["prompt_tokens"] == 150 and row["completion_tokens"] == 30


def test_refused_credentials_stop_the_job_and_the_key_only_travels_in_the_header(serve: Any) -> None:
    server = serve(lambda body, n: Reply(status=401))
    with pytest.raises(LlmUnavailable, match="credentials refused"):
        run_ask(client(server, api_key="sk-secret"), task())
    assert server.headers[0]["Authorization"] == "Bearer sk-secret"
    assert "sk-secret" not in json.dumps(server.requests)
