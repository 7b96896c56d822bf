"""Turning questions into answer rows: the cache lookup and the HTTP answering Ray stages.

Both are Ray Data `map_batches` callables over `ExtractionTask` rows and return `LlmAnswer`
rows. A cache hit is answered on the spot; a miss leaves `source` null for the answering stage
(HTTP here, or the vLLM engine in `vllm_stage`). Every answer, valid or not, is written to the
cache the moment it is known, so a killed job never pays for it twice; transport failures
(timeouts, 5xx after retries) are not cached and are asked again by the next run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
from typing import Any

import pyarrow as pa

from kg.arrow_schema import arrow_schema_of
from kg.schema import AnswerSource, AnswerStatus, ExtractionTask, LlmAnswer, LlmTask
from pipelines.extract.answers import MAX_ANSWER_CHARS, Answer, ParseFailure, parse_answer
from pipelines.extract.cache import AnswerCache, CacheEntry, open_cache
from pipelines.extract.http_client import ChatClient, Completion, RequestFailed
from pipelines.extract.prompts import PROMPTS

ANSWER_SCHEMA = arrow_schema_of(LlmAnswer)
# Between lookup and answering, unanswered rows have a null `source`.
PENDING_SCHEMA = pa.schema([f.with_nullable(True) for f in ANSWER_SCHEMA])
NO_COST = {"requests": 0, "attempts": 0, "prompt_tokens": 0, "completion_tokens": 0}
TASK_COLUMNS = tuple(ExtractionTask.model_fields)  # the question; the rest of a row is its answer


def from_cache(task: dict[str, Any], entry: CacheEntry) -> dict[str, Any]:
    """An answer row for a task the cache already answered (this run spent nothing on it).

    Its `answer_json` is the text an asked answer gets (pydantic's compact JSON, fields in model
    order), so an answer reads the same whether this run asked it or the cache had it.
    """
    answer_json = (json.dumps(entry.answer, separators=(",", ":"), ensure_ascii=False)
                   if entry.answer is not None else None)
    return {**task, **NO_COST, "source": AnswerSource.CACHE.value, "status": entry.status,
            "answer_json": answer_json,
            "reason": entry.reason, "raw": entry.raw}


def settle(task: dict[str, Any], result: Answer | ParseFailure, raw: str | None,
           counts: dict[str, int]) -> tuple[dict[str, Any], CacheEntry]:
    """The answer row for an asked task and the cache entry that remembers it."""
    ok = isinstance(result, Answer)
    kept_raw = None if ok else (raw[:MAX_ANSWER_CHARS] if raw is not None else None)
    row = {**task, **counts, "source": AnswerSource.LLM.value,
           "status": (AnswerStatus.OK if ok else AnswerStatus.FAILED).value,
           "answer_json": result.model_dump_json() if isinstance(result, Answer) else None,
           "reason": result.reason if isinstance(result, ParseFailure) else None, "raw": kept_raw}
    entry = CacheEntry(key=task["key"], model=task["model"], prompt_version=task["prompt_version"],
                       status=row["status"],
                       answer=result.model_dump() if isinstance(result, Answer) else None,
                       reason=row["reason"], raw=kept_raw, attempts=counts["attempts"],
                       prompt_tokens=counts["prompt_tokens"], completion_tokens=counts["completion_tokens"])
    return row, entry


def transport_failure(task: dict[str, Any], reason: str, counts: dict[str, int]) -> dict[str, Any]:
    """An answer row for a request that never got a reply (not cached: worth asking again)."""
    return {**task, **counts, "source": AnswerSource.LLM.value, "status": AnswerStatus.FAILED.value,
            "answer_json": None, "reason": f"transport: {reason}", "raw": None}


def usable(entry: CacheEntry | None, retry_failures: bool) -> bool:
    """Whether a cache entry answers its question (a cached failure does not, when asked to retry)."""
    return entry is not None and not (retry_failures and entry.status == AnswerStatus.FAILED)


def lookup(batch: pa.Table, cache_dir: str, retry_failures: bool) -> pa.Table:
    """Ray stage: answer what the cache knows; leave `source` null on the rest."""
    tasks = batch.to_pylist()
    rows = []
    for task, entry in zip(tasks, open_cache(cache_dir).get_many([t["key"] for t in tasks]), strict=True):
        if usable(entry, retry_failures):
            assert entry is not None
            rows.append(from_cache(task, entry))
        else:
            rows.append({**task, **NO_COST, "source": None, "status": AnswerStatus.FAILED.value})
    return pa.Table.from_pylist(rows, schema=PENDING_SCHEMA)


async def ask(client: ChatClient, session: Any, task: dict[str, Any], attempts: int,
              temperature: float, retry_temperature: float) -> tuple[dict[str, Any], CacheEntry | None]:
    """Ask one question until a valid answer or `attempts` invalid ones; never raises per row."""
    spec = PROMPTS[LlmTask(task["task"])]
    messages = spec.messages(json.loads(task["input_json"]))
    counts = dict(NO_COST)
    result: Answer | ParseFailure = ParseFailure(reason="not asked")
    raw = None
    for attempt in range(attempts):
        try:
            completion: Completion = await client.complete(
                session, messages, spec.schema, temperature if attempt == 0 else retry_temperature)
        except RequestFailed as e:
            return transport_failure(task, str(e), counts), None
        counts["requests"] += completion.requests
        counts["attempts"] += 1
        counts["prompt_tokens"] += completion.prompt_tokens
        counts["completion_tokens"] += completion.completion_tokens
        raw = completion.text
        result = parse_answer(raw, spec.answer_model)
        if isinstance(result, Answer):
            break
    return settle(task, result, raw, counts)


class HttpAnswerer:
    """Ray stage: ask an OpenAI-compatible server the questions the cache could not answer.

    Up to `concurrency` requests are in flight per actor; each answer is cached as soon as it
    arrives. The cache is read again just before asking: when Ray retries a batch whose actor
    died with its node, the answers that actor cached are not asked again (only those in flight
    when it died, whose replies were lost with it).
    """

    def __init__(self, client: ChatClient, api_key_env: str, cache_dir: str, concurrency: int,
                 attempts: int, temperature: float, retry_temperature: float,
                 retry_failures: bool = False) -> None:
        # The key is read here, on the worker, so it never travels in the task's arguments.
        self.client = dataclasses.replace(client, api_key=os.environ.get(api_key_env))
        self.cache = AnswerCache(cache_dir)
        self.concurrency = concurrency
        self.attempts = attempts
        self.temperatures = (temperature, retry_temperature)
        self.retry_failures = retry_failures

    async def _ask_all(self, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        gate = asyncio.Semaphore(self.concurrency)
        async with self.client.session() as session:
            async def one(task: dict[str, Any]) -> dict[str, Any]:
                async with gate:
                    row, entry = await ask(self.client, session, task, self.attempts, *self.temperatures)
                if entry is not None:
                    await asyncio.to_thread(self.cache.put, entry)
                return row

            return await asyncio.gather(*(one(t) for t in tasks))

    def __call__(self, batch: pa.Table) -> pa.Table:
        """Answer the batch's pending rows; cached rows pass through."""
        rows = batch.to_pylist()
        pending = [i for i, row in enumerate(rows) if row["source"] is None]
        for i, entry in zip(pending, self.cache.get_many([rows[i]["key"] for i in pending]), strict=True):
            if usable(entry, self.retry_failures):
                assert entry is not None
                rows[i] = from_cache({k: rows[i][k] for k in TASK_COLUMNS}, entry)
        pending = [i for i in pending if rows[i]["source"] is None]
        if pending:
            asked = asyncio.run(self._ask_all([{k: rows[i][k] for k in TASK_COLUMNS} for i in pending]))
            for i, row in zip(pending, asked, strict=True):
                rows[i] = row
        return pa.Table.from_pylist(rows, schema=ANSWER_SCHEMA)
