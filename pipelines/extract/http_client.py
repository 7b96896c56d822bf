"""A small OpenAI-compatible chat client: bounded retries with backoff, JSON-schema output.

Talks to vLLM serve, llama.cpp's server, or hosted APIs alike. Timeouts, 429 and 5xx are
retried with exponential backoff (a Retry-After header wins); when retries run out the request
fails with `RequestFailed`, which the caller records as a failure of that one question. Refused
credentials (401/403) stop the job: every other request would fail the same way. The API key
goes only into the Authorization header and is never logged or stored.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from kg.errors import LlmUnavailable

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
ResponseFormat = Literal["json_schema", "json_object_schema", "none"]


class RequestFailed(Exception):
    """One request could not be answered (retries exhausted, or a non-retryable 4xx)."""


@dataclass(frozen=True)
class Completion:
    """One reply and what it cost."""

    text: str | None
    prompt_tokens: int
    completion_tokens: int
    requests: int


def response_format_payload(mode: ResponseFormat, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The `response_format` body field for `mode`, or None to send none."""
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    return None


@dataclass(frozen=True)
class ChatClient:
    """Settings of one endpoint; `complete` is safe to call concurrently."""

    base_url: str
    model: str
    api_key: str | None
    response_format: ResponseFormat
    max_tokens: int
    timeout_s: float
    max_retries: int
    backoff_s: float

    def session(self) -> aiohttp.ClientSession:
        """An HTTP session for a batch of requests (one connection pool)."""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        return aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=self.timeout_s))

    def _body(self, messages: list[dict[str, str]], schema: dict[str, Any],
              temperature: float) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": temperature,
                                "max_tokens": self.max_tokens}
        response_format = response_format_payload(self.response_format, schema)
        if response_format is not None:
            body["response_format"] = response_format
        return body

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(float(retry_after), 60.0)
            except ValueError:
                pass
        return float(self.backoff_s * 2**attempt * (0.5 + random.random()))

    async def complete(self, session: aiohttp.ClientSession, messages: list[dict[str, str]],
                       schema: dict[str, Any], temperature: float) -> Completion:
        """Ask once (retrying transport failures); the reply text may still be broken JSON.

        Raises:
            RequestFailed: retries ran out, or the server refused this request (4xx).
            LlmUnavailable: the server refused the credentials (401/403).
        """
        url = self.base_url.rstrip("/") + "/chat/completions"
        body = self._body(messages, schema, temperature)
        problem = "no attempt made"
        retry_after: str | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                await asyncio.sleep(self._delay(attempt - 1, retry_after))
            retry_after = None
            try:
                async with session.post(url, json=body) as response:
                    if response.status in (401, 403):
                        raise LlmUnavailable(self.base_url, f"credentials refused (HTTP {response.status})")
                    if response.status in RETRY_STATUSES:
                        retry_after = response.headers.get("Retry-After")
                        problem = f"HTTP {response.status}"
                        continue
                    if response.status >= 400:
                        text = (await response.text())[:200]
                        raise RequestFailed(f"HTTP {response.status}: {text}")
                    payload = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError) as e:
                problem = f"{type(e).__name__}: {str(e)[:160]}" if str(e) else type(e).__name__
                continue
            return _completion(payload, attempt + 1)
        raise RequestFailed(f"gave up after {self.max_retries + 1} requests ({problem})")


def _completion(payload: Any, requests: int) -> Completion:
    """Text and token usage out of a chat-completions reply (missing parts read as empty)."""
    try:
        text = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        text = None
    usage = payload.get("usage") if isinstance(payload, dict) else None
    usage = usage if isinstance(usage, dict) else {}
    return Completion(text=text if isinstance(text, str) else None,
                      prompt_tokens=int(usage.get("prompt_tokens") or 0),
                      completion_tokens=int(usage.get("completion_tokens") or 0), requests=requests)
