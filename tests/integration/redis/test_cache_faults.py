"""The cache under faults: Redis killed mid-publish and mid-read, on a server of the test's own."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from kg import servers
from serving.client import SyncEmbeddingClient
from serving.config import CacheSection
from serving.connection import start_embedded
from serving.export import read_export
from serving.keys import KeySpace
from serving.publish import publish
from tests._support.embeddings import make_export


@pytest.fixture
def own_cache(tmp_path: Path) -> Iterator[CacheSection]:
    """An embedded Redis on a fixed free port (a restart comes back at the same URL)."""
    port = servers.free_port()
    cache = CacheSection(state_dir=tmp_path / "redis", port=port, url=f"redis://127.0.0.1:{port}",
                         timeout_s=0.2, retry_after_s=0.2, version_refresh_s=0.01)
    start_embedded(cache)
    yield cache
    servers.stop(cache.state_dir)


def _kill(cache: CacheSection) -> None:
    info = servers.status(cache.state_dir)
    assert info is not None
    os.kill(info.pid, signal.SIGKILL)
    while servers.status(cache.state_dir) is not None:
        time.sleep(0.01)


def test_publish_killed_midway_leaves_live_untouched_and_resumes(own_cache: CacheSection,
                                                                  tmp_path: Path) -> None:
    keys = KeySpace(own_cache.key_prefix)
    old = make_export(tmp_path, "old", users=10, items=10)
    new = make_export(tmp_path, "new", users=20_000, items=20_000, offset=7.0)
    with redis.Redis.from_url(str(own_cache.url)) as r:
        publish(r, keys, read_export(old), keep=2, batch=100)
    failure: list[BaseException] = []

    def publish_new() -> None:
        try:
            with redis.Redis.from_url(str(own_cache.url)) as r:
                publish(r, keys, read_export(new), keep=2, batch=100)
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            failure.append(e)

    worker = threading.Thread(target=publish_new)
    worker.start()
    with redis.Redis.from_url(str(own_cache.url)) as r:
        while not r.hget(keys.meta("new"), "users_done"):
            time.sleep(0.001)
    _kill(own_cache)
    worker.join()
    assert failure and isinstance(failure[0], redis.ConnectionError)
    start_embedded(own_cache)
    with redis.Redis.from_url(str(own_cache.url)) as r:
        assert r.get(keys.live) == b"old"
        report = publish(r, keys, read_export(new), keep=2, batch=1000)
        assert report.outcome == "resumed" and report.rows_loaded["users"] < 20_000
        assert r.get(keys.live) == b"new"
    with SyncEmbeddingClient(own_cache) as client:
        lookup = client.get_users(["u0", "u19999"])
        assert lookup.found.all() and lookup.vectors[:, 0].tolist() == [-7.0, -20_006.0]


def test_reads_fall_back_while_redis_is_down_and_recover_after_restart(own_cache: CacheSection,
                                                                        tmp_path: Path) -> None:
    with redis.Redis.from_url(str(own_cache.url)) as r:
        publish(r, KeySpace(own_cache.key_prefix), read_export(make_export(tmp_path, "v1", items=4, dim=2)),
                keep=2, batch=100)
        r.execute_command("BGREWRITEAOF")  # on disk before the kill; AOF fsyncs once a second
        time.sleep(1.2)
    with SyncEmbeddingClient(own_cache) as client:
        assert client.get_items(["i1"]).found.all()
        _kill(own_cache)
        started = time.perf_counter()
        down = client.get_items(["i1", "i2"])
        assert time.perf_counter() - started < 1.0
        assert not down.found.any() and down.vectors.tolist() == [[1.5, 1.5], [1.5, 1.5]]  # mean item
        assert client.stats["redis_errors"] == 1
        client.get_items(["i1"])  # within retry_after_s: Redis is not even asked
        assert client.stats["skipped_while_down"] == 1
        start_embedded(own_cache)
        time.sleep(own_cache.retry_after_s)
        back = client.get_items(["i1", "i2"])
        assert back.found.all() and back.vectors[:, 0].tolist() == [1.0, 2.0]
