"""The curation workbench with 100k proposed relations: time to the first queue page and to the next card.

    python benchmarks/workbench.py --relations 100000

Loads `--relations` proposed relations (graph_load's generator, with critic scores so the
queue's order is the critic's uncertainty times support) into a graph of one embedded
FalkorDB server, then requests the real app over HTTP (FastAPI's TestClient, in process) and
reports p50/p95 over `--samples` requests of:

- the first queue page (`GET /`: a page of the cached queue order read live, the first card
  and the page), and with a filter (`type` and an item search);
- a filter's first page, its order not yet held (a new item search each request: the order
  statement, then the page);
- the next card after a decision (`POST /api/decide` on the card shown, then `GET /`).

Beside each: the target (p95 300 ms) as a ratio, and the queue statement alone through the
store (`GraphStore.review_queue`, a page read and sorted from every relation: what each page
cost before the workbench cached the order) in the same run, the baseline. The order statement
alone (ids only, `GraphStore.queue_order`) is what a background refresh costs.
It ends with FalkorDB's `GRAPH.EXPLAIN` plan of the queue statement.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
from fastapi.testclient import TestClient
from graph_load import _make_input  # sibling module: benchmarks/ is on sys.path when run as a script

from kg import cypher
from kg.backends.falkordb import server as falkordb_server
from kg.backends.falkordb.store import FalkorDBStore
from kg.curation import QueueFilter
from kg.load import RetryPolicy, load_directory
from kg.schema import CurationStatus
from serving.config import WorkbenchSection
from serving.workbench.app import create_app

TARGET_P95_S = 0.300
CARD = re.compile(r'id="card" data-id="([^"]+)" data-version="(\d+)"')
CSRF = re.compile(r'<meta name="csrf" content="([^"]+)">')


def _load(url: str, graph: str, directory: Path, relations: int, items: int) -> None:
    """Proposed relations with critic scores, through kgrec's loader (a first load)."""
    frame = _make_input(directory, relations, items, seed=3)
    rng = np.random.default_rng(5)
    frame.with_columns(pl.Series("critic_score", rng.random(frame.height)),
                       pl.lit("critic-bench").alias("decided_by"), pl.lit(0.5).alias("decision_threshold")
                       ).write_parquet(directory / "relations" / "part.parquet")
    with FalkorDBStore(url, graph) as store:
        store.clear()
        load_directory(store, directory, 5_000, RetryPolicy(max_retries=0, backoff_s=0.1))


def _times(call: Callable[[], object], samples: int) -> list[float]:
    spent = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        spent.append(time.perf_counter() - started)
    return spent


def _line(name: str, spent: list[float], baseline: list[float] | None = None) -> str:
    p50, p95 = statistics.median(spent), float(np.percentile(spent, 95))
    line = f"{name:<58}{p50 * 1000:>8.1f}{p95 * 1000:>8.1f}{p95 / TARGET_P95_S:>10.2f}x"
    if baseline is not None:
        line += f"{statistics.median(spent) / statistics.median(baseline):>12.2f}x"
    return line


def _next_card(client: TestClient, csrf: str) -> Callable[[], object]:
    """Decide the card the queue shows, then load the queue again (the next card)."""
    page = {"text": client.get("/").text}

    def decide_and_reload() -> None:
        found = CARD.search(page["text"])
        assert found, "the queue page shows no card"
        answer = client.post("/api/decide", headers={"X-CSRF-Token": csrf}, json={
            "by": "bench", "id": found.group(1), "version": int(found.group(2)), "action": "accept"})
        assert answer.status_code == 200, answer.text
        page["text"] = client.get("/").text

    return decide_and_reload


def main() -> None:
    """Load the graph, time the pages, print the figures and the plan."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--relations", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        info = falkordb_server.start(root / "state")
        try:
            _load(info.url, "bench", root / "input", args.relations, args.items)
            store = FalkorDBStore(info.url, "bench")
            section = WorkbenchSection(labels_path=root / "labels.parquet")
            with store, TestClient(create_app(FalkorDBStore(info.url, "bench"), section, "bench",
                                              environ={})) as client:
                proposed = store.queue_count(QueueFilter())
                csrf = CSRF.search(client.get("/").text).group(1)  # type: ignore[union-attr]  # and warm up
                size = section.page_size
                bare = _times(lambda: store.review_queue(CurationStatus.PROPOSED, size), args.samples)
                cap = section.queue_order_limit
                order = _times(lambda: store.queue_order(QueueFilter(), cap), args.samples)
                first = _times(lambda: client.get("/"), args.samples)
                fresh = iter(range(args.samples))
                cold = _times(lambda: client.get(f"/?search=i{next(fresh):04d}"), args.samples)
                search = "/?type=CO_PURCHASED&search=i00012"
                filtered = _times(lambda: client.get(search), args.samples)
                after = _times(_next_card(client, csrf), args.samples)
                plan = store._graph.explain(cypher.REVIEW_QUEUE, {
                    **QueueFilter().params(), "skip": 0, "limit": section.page_size})
            print(f"proposed relations: {proposed:,}   items: {args.items:,}   page: {section.page_size}   "
                  f"samples: {args.samples}")
            print(f"{'request':<58}{'p50 ms':>8}{'p95 ms':>8}{'p95/300ms':>11}{'p50/bare':>12}")
            print(_line("queue statement alone (store, baseline)", bare))
            print(_line("queue order alone (store, ids; what a refresh costs)", order, bare))
            print(_line("first queue page (GET /)", first, bare))
            print(_line("a filter's first page, its order read (GET /?search=iNNNN)", cold, bare))
            print(_line(f"filtered page (GET {search})", filtered, bare))
            print(_line("next card after a decision (POST + GET)", after, bare))
            print("GRAPH.EXPLAIN of the queue statement:")
            print(str(plan))
        finally:
            falkordb_server.stop(root / "state")


if __name__ == "__main__":
    main()
