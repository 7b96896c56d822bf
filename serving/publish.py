"""`kgrec embed publish`: an exported version into Redis, then an atomic switch of the live pointer.

Steps, each safe to repeat:

1. Claim the version: its meta hash records the manifest's digest. A version already claimed
   with another digest is refused (two different exports must not share a name).
2. Bulk-load users then items with pipelined `MSET`s of raw float32 bytes. Each batch also
   records how many rows are loaded, in the same pipeline after the `MSET`, so a publish
   killed at any point resumes after the last batch Redis applied.
3. Write the cold-start vectors (global means, per-category item means).
4. In one `MULTI`: mark the version complete, add it to the published set, point `live` at it.
   Readers see the old version or the new one, never a mix, because they pin a version per batch.
5. Drop versions beyond the newest `keep`: `SCAN` their keys in batches and `UNLINK` them
   (freed in the background), so readers are never blocked by a large delete.

Publishing a version that is already live is a no-op; one that is complete but not live
becomes live again (a rollback).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel

from kg.errors import VersionConflictError
from serving.export import EmbeddingTable, Export
from serving.keys import KeySpace, Kind, as_text

if TYPE_CHECKING:
    import redis

log = logging.getLogger("kgrec")

Outcome = Literal["published", "resumed", "already live", "switched back"]


class PublishReport(BaseModel):
    """What one publish did."""

    version: str
    outcome: Outcome
    rows_loaded: dict[str, int]
    deleted_versions: list[str]
    wall_s: float


def digest(export: Export) -> str:
    """Identity of an export's content: a hash of its manifest (which names model, time, rows)."""
    return hashlib.sha256(export.manifest.model_dump_json().encode()).hexdigest()[:16]


def _load(r: redis.Redis, keys: KeySpace, version: str, kind: Kind, table: EmbeddingTable,
          start: int, batch: int) -> int:
    """MSET rows `start:` in batches; returns rows written by this call."""
    prefix = keys.vector_prefix(version, kind)
    vectors = np.ascontiguousarray(table.vectors, dtype="<f4")
    as_bytes = vectors.view(np.dtype((np.void, vectors.shape[1] * 4))).reshape(-1)
    total = len(table.ids)
    for lo in range(start, total, batch):
        hi = min(lo + batch, total)
        values = [v.tobytes() for v in as_bytes[lo:hi]]
        mapping = dict(zip([prefix + i for i in table.ids[lo:hi]], values, strict=True))
        pipe = r.pipeline(transaction=False)
        pipe.mset(mapping)
        pipe.hset(keys.meta(version), f"{kind}_done", hi)
        pipe.execute()
    return max(total - start, 0)


def fallback_vectors(export: Export, categories: Mapping[str, str] | None) -> dict[str, bytes]:
    """Cold-start vectors: `user:mean`, `item:mean`, and `cat:<category>` item means."""
    out = {"user:mean": export.users.vectors.mean(axis=0).astype("<f4").tobytes(),
           "item:mean": export.items.vectors.mean(axis=0).astype("<f4").tobytes()}
    if categories:
        labels = np.array([categories.get(i, "") for i in export.items.ids], dtype=object)
        for category in sorted({c for c in labels if c}):
            mean = export.items.vectors[labels == category].mean(axis=0)
            out[f"cat:{category}"] = mean.astype("<f4").tobytes()
    return out


def _switch(r: redis.Redis, keys: KeySpace, version: str) -> None:
    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.meta(version), "complete", 1)
    pipe.zadd(keys.versions, {version: time.time()})
    pipe.set(keys.live, version)
    pipe.execute()


def prune(r: redis.Redis, keys: KeySpace, keep: int, scan_count: int = 1_000) -> list[str]:
    """Delete published versions beyond the newest `keep` (never the live one); return them."""
    live = r.get(keys.live)
    live = as_text(live) if live is not None else None
    newest_first = [as_text(v) for v in r.zrevrange(keys.versions, 0, -1)]
    doomed = [v for v in newest_first[keep:] if v != live]
    for version in doomed:
        r.zrem(keys.versions, version)  # first: no reader or publisher treats it as published now
        batch: list[bytes] = []
        for key in r.scan_iter(match=keys.version_pattern(version), count=scan_count):
            batch.append(key)
            if len(batch) >= scan_count:
                r.unlink(*batch)
                batch = []
        if batch:
            r.unlink(*batch)
        log.info("publish: deleted version %s", version)
    return doomed


def publish(r: redis.Redis, keys: KeySpace, export: Export, *, keep: int, batch: int,
            categories: Mapping[str, str] | None = None) -> PublishReport:
    """Load `export` under its version and make it live; see the module docstring.

    Raises:
        VersionConflictError: the version name is taken by an export with other content.
    """
    started = time.perf_counter()
    version = export.manifest.version
    meta_key = keys.meta(version)
    mine = digest(export)
    r.hsetnx(meta_key, "digest", mine)
    meta = {as_text(k): as_text(v) for k, v in r.hgetall(meta_key).items()}
    if meta["digest"] != mine:
        raise VersionConflictError(version, f"already published from another export (digest "
                                            f"{meta['digest']}, this one {mine}); use a new version name")
    if meta.get("complete") == "1":
        outcome: Outcome = "already live" if as_text(r.get(keys.live)) == version else "switched back"
        if outcome == "switched back":
            _switch(r, keys, version)
        return PublishReport(version=version, outcome=outcome, rows_loaded={}, deleted_versions=[],
                             wall_s=round(time.perf_counter() - started, 3))
    resumed = any(f"{k}_done" in meta for k in ("users", "items"))
    r.hset(meta_key, mapping={"manifest": export.manifest.model_dump_json()})
    tables: dict[Kind, EmbeddingTable] = {"users": export.users, "items": export.items}
    loaded: dict[str, int] = {
        kind: _load(r, keys, version, kind, table, int(meta.get(f"{kind}_done", 0)), batch)
        for kind, table in tables.items()}
    fallbacks: Mapping[Any, bytes] = fallback_vectors(export, categories)
    r.hset(keys.fallback(version), mapping=fallbacks)
    _switch(r, keys, version)
    deleted = prune(r, keys, keep)
    return PublishReport(version=version, outcome="resumed" if resumed else "published",
                         rows_loaded=loaded, deleted_versions=deleted,
                         wall_s=round(time.perf_counter() - started, 3))
