"""Publishing and reading embeddings against a real Redis (started by the tests)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import numpy as np
import pytest
import redis

from kg.errors import VersionConflictError
from serving.client import EmbeddingClient, SyncEmbeddingClient
from serving.config import CacheSection
from serving.export import read_export
from serving.keys import KeySpace
from serving.publish import publish
from tests._support.embeddings import make_export

_prefixes = itertools.count()


@pytest.fixture
def cache(redis_url: str) -> CacheSection:
    """Settings with a key prefix of its own, so tests share the server but not the keys."""
    return CacheSection(url=redis_url, key_prefix=f"t{next(_prefixes)}", version_refresh_s=0.001)


def _publish(cache: CacheSection, export_dir: Path, **kwargs: object) -> str:
    with redis.Redis.from_url(str(cache.url)) as r:
        report = publish(r, KeySpace(cache.key_prefix), read_export(export_dir),
                         keep=cache.keep_versions, batch=kwargs.pop("batch", 7), **kwargs)  # type: ignore[arg-type]
    return report.outcome


def test_publish_then_read_with_found_mask_and_fallbacks(cache: CacheSection, tmp_path: Path) -> None:
    version_dir = make_export(tmp_path, "v1", users=5, items=6, dim=4)
    with redis.Redis.from_url(str(cache.url)) as r:
        report = publish(r, KeySpace(cache.key_prefix), read_export(version_dir), keep=2, batch=4,
                         categories={"i0": "tents", "i2": "tents", "i1": "stoves"})
    assert report.outcome == "published" and report.rows_loaded == {"users": 5, "items": 6}
    with SyncEmbeddingClient(cache) as client:
        items = client.get_items(["i3", "nope", "i0", "new"], categories=[None, "tents", None, None])
        assert items.version == "v1"
        assert items.found.tolist() == [True, False, True, False]
        assert items.vectors.dtype == np.float32 and items.vectors.shape == (4, 4)
        assert items.vectors[:, 0].tolist() == [3.0, 1.0, 0.0, 2.5]  # tents mean (0+2)/2; all-item mean 2.5
        users = client.get_users(["u1", "cold", "colder"], recent_items=[[], ["i4", "i5", "gone"], ["gone"]])
        assert users.found.tolist() == [True, False, False]
        assert users.vectors[:, 0].tolist() == [-1.0, 4.5, -2.0]  # recent-items mean; all-user mean -2
        assert client.stats["fallbacks"] >= 3 and client.stats["redis_errors"] == 0


def test_large_batches_are_chunked_and_keep_order(cache: CacheSection, tmp_path: Path) -> None:
    _publish(cache, make_export(tmp_path, "v1", items=300, dim=3))
    ids = [f"i{r}" for r in range(299, -1, -1)]
    with SyncEmbeddingClient(cache.model_copy(update={"read_chunk": 64})) as client:
        lookup = client.get_items(ids)
    assert lookup.found.all() and lookup.vectors[:, 0].tolist() == list(range(299, -1, -1))


def test_publish_is_idempotent_and_refuses_other_content_under_the_same_name(
        cache: CacheSection, tmp_path: Path) -> None:
    first = make_export(tmp_path / "a", "v1")
    assert _publish(cache, first) == "published"
    assert _publish(cache, first) == "already live"
    impostor = make_export(tmp_path / "b", "v1", offset=5.0)
    with pytest.raises(VersionConflictError, match="'v1'"):
        _publish(cache, impostor)


def test_only_the_newest_versions_are_kept(cache: CacheSection, tmp_path: Path) -> None:
    exports = [make_export(tmp_path, f"v{n}", offset=n) for n in range(1, 4)]
    for export in exports:
        _publish(cache, export)
    keys = KeySpace(cache.key_prefix)
    with redis.Redis.from_url(str(cache.url)) as r:
        assert [v.decode() for v in r.zrange(keys.versions, 0, -1)] == ["v2", "v3"]
        assert list(r.scan_iter(match=keys.version_pattern("v1"))) == []
        assert r.get(keys.live) == b"v3"
    assert _publish(cache, exports[1]) == "switched back"


def test_no_batch_mixes_versions_while_versions_switch(cache: CacheSection, tmp_path: Path) -> None:
    """Readers pinned per batch: every batch's rows come from the version it reports."""
    exports = [make_export(tmp_path, f"v{n}", items=400, dim=4, offset=1000.0 * n) for n in range(1, 6)]
    _publish(cache, exports[0], batch=50)
    ids = [f"i{r}" for r in range(400)]
    seen: set[str] = set()

    async def reader(stop: asyncio.Event) -> int:
        batches = 0
        async with EmbeddingClient(cache.model_copy(update={"read_chunk": 64})) as client:
            while not stop.is_set():
                lookup = await client.get_items(ids)
                assert lookup.found.all(), "a published version lost keys while readers used it"
                offsets = lookup.vectors[:, 0] - np.arange(400)
                assert lookup.version is not None
                assert np.all(offsets == 1000.0 * int(lookup.version[1:])), "mixed versions in one batch"
                seen.add(lookup.version)
                batches += 1
                await asyncio.sleep(0)
        return batches

    async def scenario() -> list[int]:
        stop = asyncio.Event()
        readers = [asyncio.create_task(reader(stop)) for _ in range(3)]
        for export in exports[1:]:
            await asyncio.to_thread(_publish, cache, export, batch=50)
            await asyncio.sleep(0.02)
        stop.set()
        return await asyncio.gather(*readers)

    assert min(asyncio.run(scenario())) > 0
    assert len(seen) >= 2
