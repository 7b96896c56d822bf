"""The HTTP API against a real Redis: lookups, version, readiness, metrics, and 4xx on bad input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from serving.api import create_app
from serving.config import CacheSection, ServeSection
from serving.export import read_export
from serving.keys import KeySpace
from serving.publish import publish
from tests._support.embeddings import make_export


@pytest.fixture(scope="module")
def api(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    cache = CacheSection(url=redis_url, key_prefix="api")
    export = make_export(tmp_path_factory.mktemp("exports"), "v1", users=3, items=4, dim=2)
    with redis.Redis.from_url(redis_url) as r:
        publish(r, KeySpace("api"), read_export(export), keep=2, batch=10)
    with TestClient(create_app(cache, ServeSection(max_batch=5, max_id_length=8))) as client:
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
    app = create_app(CacheSection(url=redis_url, key_prefix="empty"), ServeSection())
    with TestClient(app) as client:
        reply = client.get("/readyz")
    assert reply.status_code == 503 and reply.json()["reason"] == "no version published"
