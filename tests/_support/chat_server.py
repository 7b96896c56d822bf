"""A scripted OpenAI-compatible chat server on 127.0.0.1, for fault injection.

It is a real HTTP server (aiohttp, its own thread and loop), so the client's timeouts, retries
and connection handling run for real; only the answers are scripted. The real local model is
exercised by the tests marked `llm`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from kg.servers import free_port


@dataclass
class Reply:
    """What the server answers to one request."""

    content: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


Script = Callable[[dict[str, Any], int], Reply]  # (request body, request number) -> reply


class ChatServer:
    """Serve `script` at http://127.0.0.1:<port>/v1 until `close()`; records every request."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._started.wait(10)

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        reply = self.script(body, len(self.requests))
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            return web.Response(status=reply.status, text="scripted failure", headers=reply.headers)
        return web.json_response({
            "choices": [{"message": {"role": "assistant", "content": reply.content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 10},
        })

    def _serve(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._runner = runner
        self._started.set()
        self._loop.run_forever()

    def close(self) -> None:
        """Stop serving and join the thread."""
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def answer_for(body: dict[str, Any]) -> str:
    """A valid answer for whichever question `body` asks (read from its system prompt)."""
    system = body["messages"][0]["content"]
    if "how two shop products" in system:
        return json.dumps({"relation": "complement", "direction": "a_to_b", "confidence": 0.7, "rationale": "r"})
    if "commonsense" in system:
        return json.dumps({"used_for": "camping", "used_by": "hikers", "used_in": "campsite",
                           "capable_of": "lighting", "is_a": "lamp", "used_with": "tent", "confidence": 0.6})
    return json.dumps({"facts": "A product."})
