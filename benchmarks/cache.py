"""The embedding cache: client reads vs raw MGET, the HTTP API under bounded load, publish time.

    python benchmarks/cache.py                       # 1M x 64-d items, 2,000 batches of 512
    python benchmarks/cache.py --items 100000 --batches 500

Starts its own embedded Redis (127.0.0.1, free port, temp dir; stopped by pid at the end) and
prints, in one run:

1. publish: wall time to load `--items` x `--dim` float32 vectors (pipelined MSET) and switch live;
2. reads of `--batch` random ids, one batch in flight: `EmbeddingClient.get_items` (keys built,
   version pinned, decoded into a float32 matrix) vs raw MGET of the same prebuilt keys (bytes
   only) through a plain `redis.asyncio.Redis` - the baseline of the ratio - and through the
   client's own connection (hiredis command packing, `serving/packing.py`), which shows what
   the client adds on top of its connection: p50, p99, ids/s, and the ratio client/raw;
3. the HTTP API (`kgrec serve` in a subprocess): `--concurrency` clients each sending requests of
   `--http-batch` ids back to back for `--seconds`: requests/s, ids/s, p50, p99.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kg import servers
from serving.client import EmbeddingClient
from serving.config import CacheSection
from serving.connection import start_embedded, sync_redis
from serving.export import EmbeddingTable, ModelInfo, read_export, write_export
from serving.keys import KeySpace
from serving.publish import publish


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def _publish(cache: CacheSection, work: Path, items: int, dim: int) -> float:
    rng = np.random.default_rng(0)
    ids = [f"item-{n}" for n in range(items)]
    path = write_export(work, "bench", EmbeddingTable(["u0"], rng.normal(size=(1, dim)).astype(np.float32)),
                        EmbeddingTable(ids, rng.normal(size=(items, dim)).astype(np.float32)),
                        model=ModelInfo(name="random", hash="none", baseline=True), as_of=datetime.now(UTC))
    export = read_export(path)
    with sync_redis(cache) as r:
        report = publish(r, KeySpace(cache.key_prefix), export, keep=cache.keep_versions,
                         batch=cache.publish_batch)
    return report.wall_s


async def _reads(cache: CacheSection, items: int, batches: int, batch: int) -> dict[str, list[float]]:
    import redis.asyncio

    rng = np.random.default_rng(1)
    draws = [[f"item-{n}" for n in rng.integers(0, items, batch)] for _ in range(batches)]
    timings: dict[str, list[float]] = {"client": [], "raw MGET": [], "raw MGET, packed": []}
    assert cache.url is not None
    plain = redis.asyncio.Redis.from_url(cache.url)  # redis-py as a ranker would use it
    async with EmbeddingClient(cache) as client:
        prefix = KeySpace(cache.key_prefix).vector_prefix("bench", "items")
        raw_keys = [[prefix + i for i in ids] for ids in draws]
        readers = {"raw MGET": plain, "raw MGET, packed": client.redis}
        await client.get_items(draws[0])
        for reader in readers.values():
            await reader.mget(raw_keys[0])  # warm every path's connection

        async def read(name: str, ids: list[str], keys: list[str]) -> None:
            started = time.perf_counter()
            if name == "client":
                assert (await client.get_items(ids)).found.all()
            else:
                assert len(await readers[name].mget(keys)) == batch
            timings[name].append(time.perf_counter() - started)

        names = list(timings)
        for n, (ids, keys) in enumerate(zip(draws, raw_keys, strict=True)):
            # Interleaved, and the order rotated each batch: the first reader of a batch finds
            # its keys cold in Redis's CPU caches, the later ones warm.
            for name in names[n % 3:] + names[:n % 3]:
                await read(name, ids, keys)
    await plain.aclose()
    return timings


async def _http_load(port: int, items: int, batch: int, concurrency: int, seconds: float) -> list[float]:
    import httpx

    rng = np.random.default_rng(2)
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            body = {"ids": [f"item-{n}" for n in rng.integers(0, items, batch)]}
            started = time.perf_counter()
            reply = await client.post("/v1/items", json=body)
            latencies.append(time.perf_counter() - started)
            reply.raise_for_status()

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return latencies


def _start_api(cache: CacheSection, url: str) -> tuple[subprocess.Popen[bytes], int]:
    import httpx

    port = servers.free_port()
    env = {**os.environ, "KGREC_CACHE__URL": url, "KGREC_CACHE__KEY_PREFIX": cache.key_prefix,
           "KGREC_SERVE__PORT": str(port)}
    kgrec = Path(sys.executable).with_name("kgrec")
    process = subprocess.Popen([str(kgrec), "serve"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return process, port
        except httpx.ConnectError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("kgrec serve did not become ready")


def _http(cache: CacheSection, url: str, args: argparse.Namespace) -> None:
    process, port = _start_api(cache, url)
    try:
        latencies = asyncio.run(_http_load(port, args.items, args.http_batch, args.concurrency, args.seconds))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    p50, p99 = _percentiles(latencies)
    requests = len(latencies) / args.seconds
    print(f"HTTP API, {args.concurrency} concurrent clients x {args.http_batch} ids, {args.seconds:.0f} s: "
          f"{requests:,.0f} req/s, {requests * args.http_batch:,.0f} ids/s, "
          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")


def main() -> None:
    """Parse flags, run the three measurements, print them."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--batches", type=int, default=2_000)
    parser.add_argument("--http-batch", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kgrec-cache-bench-") as tmp:
        work = Path(tmp)
        cache = CacheSection(state_dir=work / "redis", timeout_s=1.0)
        info = start_embedded(cache)
        cache = cache.model_copy(update={"url": info.url})
        try:
            wall = _publish(cache, work / "exports", args.items, args.dim)
            print(f"publish: {args.items:,} x {args.dim}-d float32 in {wall:.1f} s "
                  f"({args.items / wall:,.0f} vectors/s)")
            timings = asyncio.run(_reads(cache, args.items, args.batches, args.batch))
            rates = {}
            print(f"reads of {args.batch} ids, {args.batches} batches, one in flight:")
            for name, seconds in timings.items():
                p50, p99 = _percentiles(seconds)
                rates[name] = args.batch * len(seconds) / sum(seconds)
                print(f"  {name:<17} p50 {p50:.3f} ms   p99 {p99:.3f} ms   {rates[name]:>12,.0f} ids/s")
            print(f"  ratio client/raw: {rates['client'] / rates['raw MGET']:.2f}x")
            _http(cache, info.url, args)
        finally:
            servers.stop(cache.state_dir)


if __name__ == "__main__":
    main()
