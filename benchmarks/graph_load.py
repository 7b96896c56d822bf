"""Graph load: kgrec's writer vs. a bare UNWIND ... MERGE of the same rows, same server, same run.

    python benchmarks/graph_load.py --relations 1000000

FalkorDB's own bulk loader (`falkordb-bulk-insert`, PyPI `falkordb-bulk-loader`, in the dev
extra) loads the same items and relations from the CSV files it reads, into a new graph of the
same server; writing those files is timed separately.
Every path writes the items, then CO_PURCHASED relations between them, into a graph of one
embedded FalkorDB server, with the same batch size, and ends with the same indexes; the
timings cover the items, the relations and the indexes. The writer also validates every row,
checks endpoints, merges evidence and checkpoints; the baseline only MERGEs and SETs.

The writer runs as a first load (an empty graph: new relations go in by GRAPH.BULK, the
relationship indexes are built at the end; `GraphStore.begin_load`), `--repeats` times with
the median reported, and once as a later load (the graph already holds a relationship:
everything is MERGEd with the indexes kept up to date). The baseline runs twice: keeping
the indexes up to date row by row, as a plain loader does, and with them built after. Peak
memory is this process's (the client side); the server's RSS is printed beside it, and the
client's peak is also taken before the baselines build their row dicts.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import psutil

from kg.backends.falkordb import server as falkordb_server
from kg.backends.falkordb.store import FalkorDBStore
from kg.load import RetryPolicy, load_directory
from kg.schema import RelationType, relation_id

# What a loader without provenance rules would send: the same rows, every property copied.
RAW_ITEMS = """UNWIND $rows AS row
MERGE (n:Item {id: row.id})
SET n += row"""
RAW_MERGE = """UNWIND $rows AS row
MATCH (h:Item {id: row.head})
MATCH (t:Item {id: row.tail})
MERGE (h)-[r:CO_PURCHASED {id: row.id}]->(t)
SET r += row"""


def _make_input(directory: Path, n_relations: int, n_items: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    items = [f"I{i:07d}" for i in range(n_items)]
    (directory / "items").mkdir(parents=True)
    (directory / "relations").mkdir()
    pl.DataFrame({"item_id": items, "title": items}).with_columns(
        pl.lit(None, pl.String).alias("category"), pl.lit(None, pl.String).alias("brand")
    ).write_parquet(directory / "items" / "part.parquet")
    heads = rng.integers(0, n_items, n_relations * 2)
    tails = rng.integers(0, n_items, n_relations * 2)
    pairs = pl.DataFrame({"a": heads, "b": tails}).filter(pl.col("a") < pl.col("b"))
    pairs = pairs.unique(maintain_order=True).head(n_relations)
    head = [items[i] for i in pairs["a"]]
    tail = [items[i] for i in pairs["b"]]
    frame = pl.DataFrame({
        "id": [relation_id(h, RelationType.CO_PURCHASED, t) for h, t in zip(head, tail, strict=True)],
        "head": head, "type": RelationType.CO_PURCHASED.value, "tail": tail,
        "confidence": rng.random(len(head)), "support": rng.integers(1, 50, len(head)),
        "lift": rng.random(len(head)) * 10, "model": "cooccurrence", "prompt_version": "n/a",
        "run_id": "bench", "evidence_id": "bench",
    }).with_columns(pl.lit(None, pl.String).alias("tail_text"), pl.lit(None, pl.String).alias("rationale"),
                    pl.lit(None, pl.Datetime("ms", "UTC")).alias("first_seen"),
                    pl.lit(None, pl.Datetime("ms", "UTC")).alias("last_seen"))
    frame.write_parquet(directory / "relations" / "part.parquet")
    return frame


def _raw(url: str, directory: Path, frame: pl.DataFrame, batch: int, index_after: bool) -> float:
    """Seconds to MERGE the items, then the relations, through the falkordb client as it is.

    `index_after`: the relationship indexes are created after the relations and waited for.
    """
    store = FalkorDBStore(url, "raw")
    with store:
        store.clear()
        store.ensure_schema(relation_indexes=not index_after)
        items = pl.read_parquet(directory / "items").rename({"item_id": "id"}).to_dicts()
        rows = [{k: v for k, v in row.items() if v is not None} for row in frame.drop("type").to_dicts()]
        started = time.perf_counter()
        for statement, batches in ((RAW_ITEMS, items), (RAW_MERGE, rows)):
            for start in range(0, len(batches), batch):
                store._graph.query(statement, {"rows": batches[start:start + batch]})
        if index_after:
            store.ensure_schema()
            store.await_indexes()
        return time.perf_counter() - started


def _bulk_csv(directory: Path, frame: pl.DataFrame, out: Path) -> float:
    """Seconds to write the items and relations as the CSV files `falkordb-bulk-insert` reads.

    Its CSVs: nodes with their id first, relations with source and destination ids first, one
    header row; columns that are null throughout (category, brand, first/last seen, ...) are
    left out, as the tool has no null.
    """
    out.mkdir(parents=True)
    started = time.perf_counter()
    pl.read_parquet(directory / "items").select(pl.col("item_id").alias("id"), "title").write_csv(
        out / "Item.csv")
    frame.select("head", "tail", "id", "confidence", "support", "lift", "model", "prompt_version", "run_id",
                 "evidence_id").write_csv(out / "CO_PURCHASED.csv")
    return time.perf_counter() - started


def _bulk_loader(url: str, csv_dir: Path) -> float:
    """Seconds for FalkorDB's own `falkordb-bulk-insert` to load the CSVs into a new graph."""
    tool = shutil.which("falkordb-bulk-insert") or str(Path(sys.executable).with_name("falkordb-bulk-insert"))
    started = time.perf_counter()
    subprocess.run([tool, "bulk-loader", "--server-url", url, "--nodes-with-label", "Item",
                    str(csv_dir / "Item.csv"), "--relations-with-type", "CO_PURCHASED",
                    str(csv_dir / "CO_PURCHASED.csv"), "--index", "Item:id",
                    # 16 MB per query, not 64: its client's socket times out on a busy server
                    "--max-buffer-size", "16"],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _writer(url: str, graph: str, directory: Path, args: argparse.Namespace,
            seed_relationship: bool) -> float:
    """Seconds for `load_directory` into a fresh graph (one unrelated relationship first, if asked)."""
    with FalkorDBStore(url, graph) as store:
        store.clear()
        if seed_relationship:
            store.ensure_schema()
            store._write("CREATE (:Item {id: 'a'})-[:COMPLEMENTS {id: 'seed'}]->(:Item {id: 'b'})", {})
        shutil.rmtree(directory / "_load", ignore_errors=True)
        started = time.perf_counter()
        report = load_directory(store, directory, args.batch, RetryPolicy(), writers=args.writers)
        seconds = time.perf_counter() - started
        assert report.relations_counted == report.relations_read, report
        assert report.relation_indexes_built_after != seed_relationship, report
        return seconds


def main() -> None:
    """Parse flags, run the four loads, print the side-by-side figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--relations", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--writers", type=int, default=1, help="kgrec writer threads (graph.writers).")
    parser.add_argument("--repeats", type=int, default=3, help="First loads to time (the median counts).")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kgrec-graph-bench-"))
    info = falkordb_server.start(work / "state")
    try:
        frame = _make_input(work / "in", args.relations, args.items, seed=1)
        n = frame.height
        first_loads = [_writer(info.url, "first-load", work / "in", args, seed_relationship=False)
                       for _ in range(args.repeats)]
        writer_s = statistics.median(first_loads)
        later_s = _writer(info.url, "later-load", work / "in", args, seed_relationship=True)
        writer_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        csv_s = _bulk_csv(work / "in", frame, work / "csv")
        bulk_s = _bulk_loader(info.url, work / "csv")
        with FalkorDBStore(info.url, "bulk-loader") as bulk:
            assert int(bulk.counts()["relations"]) == n, bulk.counts()
        raw_s = _raw(info.url, work / "in", frame, args.batch, index_after=False)
        raw_after_s = _raw(info.url, work / "in", frame, args.batch, index_after=True)
        server_rss = psutil.Process(info.pid).memory_info().rss
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(f"relations: {n:,}   items: {args.items:,}   batch: {args.batch:,}   writers: {args.writers}")
        samples = ", ".join(f"{seconds:.1f}" for seconds in first_loads)
        print(f"first loads (s): {samples}; the median below")
        print(f"{'path':<50}{'wall s':>9}{'relations/s':>14}")
        for name, seconds in (("kgrec writer, first load (GRAPH.BULK)", writer_s),
                              ("kgrec writer, later load (MERGE, indexes kept)", later_s),
                              ("bare UNWIND MERGE, indexes kept up to date", raw_s),
                              ("bare UNWIND MERGE, indexes built after", raw_after_s),
                              ("falkordb-bulk-insert (CSV, Item:id index)", bulk_s),
                              ("  + writing its CSV files", bulk_s + csv_s)):
            print(f"{name:<50}{seconds:>9.1f}{n / seconds:>14,.0f}")
        print(f"first load vs falkordb-bulk-insert: {bulk_s / writer_s:.2f}x its rate "
              f"({(bulk_s + csv_s) / writer_s:.2f}x counting its CSV writing, {csv_s:.1f} s)")
        print(f"first load vs bare MERGE: {raw_s / writer_s:.2f}x (indexes kept), "
              f"{raw_after_s / writer_s:.2f}x (indexes after)")
        print(f"later load vs bare MERGE, indexes kept: {raw_s / later_s:.2f}x")
        print(f"peak RSS: client {writer_peak / 2**30:.2f} GiB after the writer runs (input frame included), "
              f"{peak / 2**30:.2f} GiB after the baselines (their row dicts); "
              f"server {server_rss / 2**30:.2f} GiB")
    finally:
        falkordb_server.stop(work / "state")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
