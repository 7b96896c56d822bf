"""The ranker's client: batched, version-pinned embedding reads that never fail the ranker.

    async with EmbeddingClient(settings.cache) as client:
        lookup = await client.get_items(["i1", "i2"])   # lookup.vectors: float32 [2, dim]
        lookup.found                                    # bool [2]: held by the cache

Reads: ids become keys of one version (the live version, re-read at most every
`version_refresh_s`), so a batch never mixes two versions; a batch larger than `read_chunk`
is split into `MGET`s sent in one pipelined round trip. Values are raw float32 bytes.

Misses get a cold-start vector, never an exception (`found` is False for them):
- items: the mean of the item's category (pass `categories`; means are published with the
  version), else the mean of all items;
- users: the mean of the user's recent items' embeddings (pass `recent_items`), else the mean
  of all users.

Redis slow or down: each read is bounded by `timeout_s`; on a timeout or connection error the
batch is served from fallbacks, `stats["redis_errors"]` counts it, and Redis is not asked
again for `retry_after_s` (a dead Redis costs no timeout per request). The next read after
that reconnects, so service recovers by itself when Redis is back. Fallback vectors are kept
in memory from the last successful read; before any read has succeeded, fallbacks are zeros
of `dim` (pass `dim`, or the first such call raises `StoreUnavailable`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import redis.asyncio
import redis.exceptions

from kg.errors import StoreUnavailable
from serving.config import CacheSection
from serving.connection import async_redis
from serving.keys import KeySpace, Kind, as_text

log = logging.getLogger("kgrec")
_REDIS_FAILURES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


@dataclass(frozen=True)
class Lookup:
    """Vectors for a batch of ids, row-aligned with the ids asked for."""

    vectors: np.ndarray  # float32 [n, dim]
    found: np.ndarray  # bool [n]: True where the cache held the id; False rows are fallbacks
    version: str | None  # the one version every found row came from; None if nothing was read


@dataclass
class _Pinned:
    """The live version as last read, with its dimension and cold-start vectors."""

    version: str | None
    dim: int | None
    fallback: dict[str, np.ndarray] = field(default_factory=dict)
    read_at: float = 0.0


def _vector(raw: Any) -> np.ndarray:
    return np.frombuffer(raw, dtype="<f4")


class EmbeddingClient:
    """Async reads of published embeddings; see the module docstring for the contract."""

    def __init__(self, cache: CacheSection, url: str | None = None, *, dim: int | None = None) -> None:
        self._cache = cache
        self._url = url
        self._keys = KeySpace(cache.key_prefix)
        self._redis: redis.asyncio.Redis | None = None
        self._pinned = _Pinned(version=None, dim=dim)
        self._down_until = 0.0
        self.stats: Counter[str] = Counter()

    async def __aenter__(self) -> EmbeddingClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Create the connection pool (connections open lazily, on the first read)."""
        self._redis = async_redis(self._cache, self._url)

    async def close(self) -> None:
        """Close the pool."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    @property
    def redis(self) -> redis.asyncio.Redis:
        """The pool; `connect()` (or `async with`) must have run."""
        if self._redis is None:
            raise RuntimeError("EmbeddingClient used before connect() or `async with`")
        return self._redis

    async def get_items(self, ids: Sequence[str],
                        categories: Sequence[str | None] | None = None) -> Lookup:
        """Item vectors; misses get their category's mean, else the mean item."""
        values, pinned = await self._read("items", ids)
        names = [f"cat:{c}" if c else "item:mean" for c in (categories or [None] * len(ids))]
        return self._assemble(values, pinned, [[n, "item:mean"] for n in names])

    async def get_users(self, ids: Sequence[str],
                        recent_items: Sequence[Sequence[str]] | None = None) -> Lookup:
        """User vectors; misses get the mean of their recent items, else the mean user."""
        values, pinned = await self._read("users", ids)
        lookup = self._assemble(values, pinned, [["user:mean"]] * len(ids))
        missing = np.flatnonzero(~lookup.found).tolist()
        if recent_items is None or not missing:
            return lookup
        wanted = [list(recent_items[m]) for m in missing]
        flat = [item for items in wanted for item in items]
        if not flat:
            return lookup
        items = await self.get_items(flat)
        start = 0
        for row, history in zip(missing, wanted, strict=True):
            found = items.found[start:start + len(history)]
            if found.any():
                lookup.vectors[row] = items.vectors[start:start + len(history)][found].mean(axis=0)
            start += len(history)
        return lookup

    async def live_version(self) -> str | None:
        """The live version now (not the pinned one); None when nothing is published."""
        raw = await self.redis.get(self._keys.live)
        return as_text(raw) if raw is not None else None

    async def manifest(self, version: str) -> dict[str, Any] | None:
        """A published version's manifest as JSON data; None if the version is unknown."""
        raw = await self.redis.hget(self._keys.meta(version), "manifest")
        return json.loads(raw) if raw is not None else None

    async def _pin(self) -> _Pinned:
        """The pinned version, re-read from Redis when older than `version_refresh_s`."""
        now = time.monotonic()
        if now - self._pinned.read_at < self._cache.version_refresh_s:
            return self._pinned
        version = await self.live_version()
        if version != self._pinned.version and version is not None:
            raw = await self.redis.hgetall(self._keys.fallback(version))
            fallback = {as_text(k): _vector(v) for k, v in raw.items()}
            dim = len(fallback["item:mean"]) if "item:mean" in fallback else self._pinned.dim
            self._pinned = _Pinned(version=version, dim=dim, fallback=fallback, read_at=now)
        else:
            self._pinned.read_at = now
        return self._pinned

    async def _mget(self, keys: list[str]) -> list[bytes | None]:
        chunk = self._cache.read_chunk
        if len(keys) <= chunk:
            return cast(list[bytes | None], await self.redis.mget(keys))
        pipe = self.redis.pipeline(transaction=False)
        for lo in range(0, len(keys), chunk):
            pipe.mget(keys[lo:lo + chunk])
        return [value for part in await pipe.execute() for value in part]

    async def _read(self, kind: Kind, ids: Sequence[str]) -> tuple[list[bytes | None], _Pinned]:
        """Raw values of one version for `ids` (all None when Redis is down or empty)."""
        if time.monotonic() < self._down_until:
            self.stats["skipped_while_down"] += 1
            return [None] * len(ids), self._pinned
        try:
            pinned = await self._pin()
            if pinned.version is None:
                return [None] * len(ids), pinned
            prefix = self._keys.vector_prefix(pinned.version, kind)
            return await self._mget([prefix + i for i in ids]), pinned
        except _REDIS_FAILURES as e:
            self.stats["redis_errors"] += 1
            self._down_until = time.monotonic() + self._cache.retry_after_s
            log.warning("embedding cache unreachable (%s); serving fallbacks for %.1f s",
                        type(e).__name__, self._cache.retry_after_s)
            return [None] * len(ids), self._pinned

    def _assemble(self, values: list[bytes | None], pinned: _Pinned,
                  fallback_names: Sequence[Sequence[str]]) -> Lookup:
        """Decode found values and fill misses from the first fallback name that exists."""
        n = len(values)
        found = np.fromiter((v is not None for v in values), dtype=bool, count=n)
        hits = int(found.sum())
        self.stats["hits"] += hits
        self.stats["misses"] += n - hits
        if hits == n and n:
            matrix = _vector(b"".join(values)).reshape(n, -1)  # type: ignore[arg-type]  # all bytes
            return Lookup(matrix.copy(), found, pinned.version)
        if pinned.dim is None:
            raise StoreUnavailable("embedding cache", "no read has succeeded yet, so the vector size is "
                                                      "unknown; pass dim= to EmbeddingClient")
        matrix = np.zeros((n, pinned.dim), dtype=np.float32)
        if hits:
            matrix[found] = _vector(b"".join(v for v in values if v is not None)).reshape(hits, -1)
        for row in np.flatnonzero(~found).tolist():
            vector = next((pinned.fallback[k] for k in fallback_names[row] if k in pinned.fallback), None)
            if vector is not None:
                matrix[row] = vector
        self.stats["fallbacks"] += n - hits
        return Lookup(matrix, found, pinned.version if hits else None)


class SyncEmbeddingClient:
    """The same reads for batch jobs without an event loop (runs one privately)."""

    def __init__(self, cache: CacheSection, url: str | None = None, *, dim: int | None = None) -> None:
        self._runner = asyncio.Runner()
        self._client = EmbeddingClient(cache, url, dim=dim)
        self._runner.run(self._client.connect())

    def get_items(self, ids: Sequence[str], categories: Sequence[str | None] | None = None) -> Lookup:
        """See `EmbeddingClient.get_items`."""
        return self._runner.run(self._client.get_items(ids, categories))

    def get_users(self, ids: Sequence[str],
                  recent_items: Sequence[Sequence[str]] | None = None) -> Lookup:
        """See `EmbeddingClient.get_users`."""
        return self._runner.run(self._client.get_users(ids, recent_items))

    @property
    def stats(self) -> Counter[str]:
        """Counters: hits, misses, fallbacks, redis_errors, skipped_while_down."""
        return self._client.stats

    def close(self) -> None:
        """Close the pool and the private event loop."""
        self._runner.run(self._client.close())
        self._runner.close()

    def __enter__(self) -> SyncEmbeddingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
