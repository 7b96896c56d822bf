"""The HTTP API for rankers that are not written in Python (`kgrec serve`).

    POST /v1/items    {"ids": [...], "categories": [...]?}     -> vectors of one version
    POST /v1/users    {"ids": [...], "recent_items": [[...]]?}  -> vectors of one version
    GET  /v1/version  the live version and its manifest
    GET  /healthz     the process answers
    GET  /readyz      Redis answers and a version is live (503 otherwise)
    GET  /metrics     Prometheus text

With tokens in the variables `serve.token_env` names, every route but /healthz and /readyz
needs `Authorization: Bearer <token>` (401 otherwise; see `serving.auth`).

A lookup answers `{"version", "dim", "found": [bool], "embeddings": [[float]]}`, rows in
the order of `ids`; misses carry the cold-start vector (see `serving.client`). Bad input is a
4xx naming the problem: 422 for a malformed body, an empty batch, a non-string or over-long
id, or mismatched side lists; 413 for a batch over `serve.max_batch`.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Mapping, Sized
from contextlib import asynccontextmanager

import orjson
from fastapi import FastAPI, HTTPException, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.auth import BearerAuth, check_exposure, read_tokens
from serving.client import EmbeddingClient, Lookup
from serving.config import CacheSection, ServeSection
from serving.metrics import ApiMetrics


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ItemsRequest(_Body):
    """Items to look up, with optional categories for the cold-start fallback."""

    ids: list[str]
    categories: list[str | None] | None = None


class UsersRequest(_Body):
    """Users to look up, with optional recent items for the cold-start fallback."""

    ids: list[str]
    recent_items: list[list[str]] | None = None


def _check(ids: list[str], side: Sized | None, side_name: str, serve: ServeSection) -> None:
    """Limits a pydantic model cannot know: they come from the configuration."""
    if not ids:
        raise HTTPException(422, "ids is empty; send at least one id")
    if len(ids) > serve.max_batch:
        raise HTTPException(413, f"{len(ids)} ids in one request; the limit is {serve.max_batch} "
                                 "(serve.max_batch)")
    for n, item in enumerate(ids):
        if not item or len(item) > serve.max_id_length:
            raise HTTPException(422, f"ids[{n}] must be 1 to {serve.max_id_length} characters "
                                     f"(got {len(item)})")
    if side is not None and len(side) != len(ids):
        raise HTTPException(422, f"{side_name} has {len(side)} entries for {len(ids)} ids")


def _answer(lookup: Lookup) -> Response:
    """The lookup as JSON; orjson writes the float32 matrix directly (no list of Python floats)."""
    body = {"version": lookup.version, "dim": int(lookup.vectors.shape[1]),
            "found": lookup.found, "embeddings": lookup.vectors}
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")


class _Measure:
    """Pure ASGI middleware timing each request (Starlette's BaseHTTPMiddleware costs far more)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # The matched route's template, not the raw path: unknown paths must not grow the label set.
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
            self.metrics.requests.labels(route, str(status)).inc()


def create_app(cache: CacheSection, serve: ServeSection, url: str | None = None,
               environ: Mapping[str, str] = os.environ) -> FastAPI:
    """The API over one `EmbeddingClient`, connected for the app's lifetime.

    The tokens are read from `environ` here, once (see `serving.auth`).

    Raises:
        ConfigError: a token is unusable, or `serve.host` is exposed without tokens and
            `serve.allow_unauthenticated` is false.
    """
    tokens = read_tokens(serve.token_env, environ)
    check_exposure(serve, tokens)
    client = EmbeddingClient(cache, url)
    metrics = ApiMetrics(client.stats)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await client.connect()
        yield
        await client.close()

    app = FastAPI(title="kgrec embeddings", lifespan=lifespan)
    if tokens:  # inside _Measure (added last, so outermost): refused requests are counted too
        app.add_middleware(BearerAuth, tokens=tokens)
    app.add_middleware(_Measure, metrics=metrics)

    @app.post("/v1/items")
    async def items(body: ItemsRequest) -> Response:
        _check(body.ids, body.categories, "categories", serve)
        return _answer(await client.get_items(body.ids, body.categories))

    @app.post("/v1/users")
    async def users(body: UsersRequest) -> Response:
        _check(body.ids, body.recent_items, "recent_items", serve)
        return _answer(await client.get_users(body.ids, body.recent_items))

    @app.get("/v1/version")
    async def version() -> dict[str, object]:
        live = await client.live_version()
        return {"live": live, "manifest": await client.manifest(live) if live else None}

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def ready() -> JSONResponse:
        try:
            live = await client.live_version()
        except Exception as e:  # noqa: BLE001 - any failure to reach Redis means not ready
            return JSONResponse({"ready": False, "reason": f"redis: {type(e).__name__}"}, status_code=503)
        if live is None:
            return JSONResponse({"ready": False, "reason": "no version published"}, status_code=503)
        return JSONResponse({"ready": True, "version": live})

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
