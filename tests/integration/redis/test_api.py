"""The HTTP API against a real Redis: lookups, version, readiness, metrics, 4xx on bad input, tokens."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kg.errors import ApiRequestError
from kg.servers import free_port
from serving.api import create_app
from serving.api_client import ApiClient
from serving.config import CacheSection, ServeSection
from serving.export import read_export
from serving.keys import KeySpace
from serving.publish import publish
from tests._support.embeddings import make_export

OLD, NEW, OTHER = "old-" + "a" * 20, "new-" + "b" * 20, "other-" + "c" * 20


@pytest.fixture(scope="module")
def cache(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> CacheSection:
    cache = CacheSection(url=redis_url, key_prefix="api")
    export = make_export(tmp_path_factory.mktemp("exports"), "v1", users=3, items=4, dim=2)
    with redis.Redis.from_url(redis_url) as r:
        publish(r, KeySpace("api"), read_export(export), keep=2, batch=10)
    return cache


@pytest.fixture(scope="module")
def api(cache: CacheSection) -> Iterator[TestClient]:
    with TestClient(create_app(cache, ServeSection(max_batch=5, max_id_length=8), environ={})) as client:
        yield client


@pytest.fixture(scope="module")
def authed(cache: CacheSection) -> Iterator[TestClient]:
    """Mid-rotation: the old token and a spare in one variable, the new one in another."""
    serve = ServeSection(host="0.0.0.0", token_env=["API_TOKENS", "API_TOKENS_NEXT"])
    environ = {"API_TOKENS": f"{OLD},{OTHER}", "API_TOKENS_NEXT": NEW}
    with TestClient(create_app(cache, serve, environ=environ)) as client:
        yield client


def test_lookup_version_and_readiness(api: TestClient) -> None:
    reply = api.post("/v1/items", json={"ids": ["i2", "zz"]}).json()
    assert reply == {"version": "v1", "dim": 2, "found": [True, False],
                     "embeddings": [[2.0, 2.0], [1.5, 1.5]]}
    users = api.post("/v1/users", json={"ids": ["x"], "recent_items": [["i1", "i3"]]}).json()
    assert users["found"] == [False] and users["embeddings"] == [[2.0, 2.0]]
    version = api.get("/v1/version").json()
    assert version["live"] == "v1" and version["manifest"]["dim"] == 2
    assert api.get("/healthz").status_code == 200
    assert api.get("/readyz").json() == {"ready": True, "version": "v1"}


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"ids": []}, 422, "ids is empty"),
    ({"ids": ["i1"] * 6}, 413, "limit is 5"),
    ({"ids": [1, 2]}, 422, "valid string"),
    ({"ids": ["much-too-long-id"]}, 422, "ids[0] must be 1 to 8 characters"),
    ({"ids": ["i1"], "categories": ["a", "b"]}, 422, "categories has 2 entries for 1 ids"),
    ({"items": ["i1"]}, 422, "ids"),
])
def test_bad_input_is_a_clear_4xx(api: TestClient, body: dict[str, object], status: int, says: str) -> None:
    reply = api.post("/v1/items", json=body)
    assert reply.status_code == status
    assert says in reply.text


def test_metrics_count_requests_and_lookups(api: TestClient) -> None:
    api.post("/v1/items", json={"ids": ["i1", "nope"]})
    assert api.get("/no/such/path").status_code == 404
    text = api.get("/metrics").text
    assert 'kgrec_api_requests_total{route="unmatched",status="404"}' in text
    assert 'kgrec_api_requests_total{route="/v1/items",status="200"}' in text
    assert "kgrec_api_request_seconds_bucket" in text
    assert 'kgrec_cache_lookups_total{result="fallbacks"}' in text


def test_not_ready_without_a_published_version(redis_url: str) -> None:
    app = create_app(CacheSection(url=redis_url, key_prefix="empty"), ServeSection(), environ={})
    with TestClient(app) as client:
        reply = client.get("/readyz")
    assert reply.status_code == 503 and reply.json()["reason"] == "no version published"


@pytest.mark.parametrize("token", [OLD, OTHER, NEW])
def test_every_token_set_is_accepted_so_a_rotation_needs_no_downtime(authed: TestClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    assert authed.post("/v1/items", json={"ids": ["i2"]}, headers=auth).json()["found"] == [True]
    assert authed.post("/v1/users", json={"ids": ["u1"]}, headers=auth).json()["found"] == [True]
    assert authed.get("/v1/version", headers=auth).json()["live"] == "v1"
    assert "kgrec_api_requests_total" in authed.get("/metrics", headers={"authorization": f"bearer {token}"}).text


@pytest.mark.parametrize(("headers", "challenge"), [
    ({}, 'Bearer realm="kgrec"'),
    ({"Authorization": "Bearer"}, 'Bearer realm="kgrec"'),
    ({"Authorization": f"Basic {OLD}"}, 'Bearer realm="kgrec"'),
    ({"Authorization": f"Bearer {OLD[:-1]}"}, 'Bearer realm="kgrec", error="invalid_token"'),
    ({"Authorization": f"Bearer {NEW}x"}, 'Bearer realm="kgrec", error="invalid_token"'),
])
@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v1/items"), ("POST", "/v1/users"), ("GET", "/v1/version"), ("GET", "/metrics"),
    ("GET", "/v1/no-such-route"), ("GET", "/openapi.json"),
])
def test_without_an_accepted_token_every_route_but_the_probes_is_a_401(
        authed: TestClient, headers: dict[str, str], challenge: str, method: str, path: str) -> None:
    reply = authed.request(method, path, headers=headers, json={"ids": ["i1"]} if method == "POST" else None)
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == challenge
    assert "bearer token" in reply.json()["detail"] and OLD[:-1] not in reply.text


def test_probes_stay_open_and_refusals_are_counted(authed: TestClient) -> None:
    assert authed.get("/healthz").status_code == 200
    assert authed.get("/readyz").json() == {"ready": True, "version": "v1"}
    authed.get("/v1/version")
    text = authed.get("/metrics", headers={"Authorization": f"Bearer {NEW}"}).text
    assert 'kgrec_api_requests_total{route="unmatched",status="401"}' in text


@contextmanager
def _served(app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn on a free loopback port, in a thread; stopped on exit."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def test_the_async_api_client_sends_its_token_and_raises_on_refusals(cache: CacheSection) -> None:
    app = create_app(cache, ServeSection(token_env=["API_TOKENS"]), environ={"API_TOKENS": f"{OLD},{NEW}"})

    async def calls(base_url: str) -> None:
        async with ApiClient(base_url, token=NEW) as api:
            items = await api.get_items(["i2", "zz"], categories=[None, None])
            assert items.found.tolist() == [True, False] and items.version == "v1"
            assert items.vectors.dtype == "float32" and items.vectors.tolist() == [[2.0, 2.0], [1.5, 1.5]]
            users = await api.get_users(["x"], recent_items=[["i1", "i3"]])
            assert users.found.tolist() == [False] and users.vectors.tolist() == [[2.0, 2.0]]
            assert await api.live_version() == "v1"
            with pytest.raises(ApiRequestError, match="HTTP 422: .*ids is empty"):
                await api.get_items([])
        for token in (None, NEW + "x"):
            async with ApiClient(base_url, token=token) as refused:
                with pytest.raises(ApiRequestError) as error:
                    await refused.get_items(["i1"])
            assert error.value.status == 401 and NEW not in str(error.value)

    with _served(app) as base_url:
        asyncio.run(calls(base_url))
    with pytest.raises(ApiRequestError, match="no reply"):  # the server is gone
        asyncio.run(calls(base_url))
