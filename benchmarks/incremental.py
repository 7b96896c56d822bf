"""Incremental runs: a 1-day increment on a 30-day history vs. a full recompute, in the same run.

    python benchmarks/incremental.py --events 10000000
    python benchmarks/incremental.py --events 1000000 --extract     # with the local LLM (cached answers)

Synthetic events over 30 days; the history is every event before the last day's midnight (about
29/30 of them). Set up first, untimed: the history is ingested, mined (`user_window` baskets of a
day, so no basket spans midnight), refined and loaded into a graph of one embedded FalkorDB. Then,
each in its own process (wall time includes Ray's start-up), the two ways to get the new day in:

- increment: `ingest --since`, `candidates --since --previous`, `refine --previous`, graph load
  into the history's graph;
- full recompute: the same stages over every event, loaded into a fresh graph.

With `--extract` both also run the extract stage with the local backend on one shared answer
cache, warmed by the history (as a daily job's cache is). The last line prints the increment's
wall time as a share of the full recompute's (target: 20% or less).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from _measure import measure  # sibling module: benchmarks/ is on sys.path when run as a script

GIB = 1024**3
CANDIDATES: dict[str, Any] = {"basket_by": "user_window", "window_seconds": 86_400}


def _history(events: int, seed: int, work: Path) -> tuple[Path, Path, datetime]:
    """Synthetic raw events (all of them), the history's raw events, the increment's start."""
    from pipelines.config import SynthSection
    from pipelines.synth.job import generate

    synth = generate(SynthSection(events=events, seed=seed, days=30), work / "raw")
    scan = pl.scan_parquet(str(synth.events_dir / "*.parquet"))
    last = scan.select(pl.col("ts").max()).collect().item()
    # the last whole day: the synthetic span ends at its last day's midnight
    since = (last - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    (work / "raw_history").mkdir()
    scan.filter(pl.col("ts") < since).sink_parquet(work / "raw_history" / "part-0.parquet")
    return synth.events_dir, synth.items_path, since


def _stages(work: Path, events: Path, items: Path, name: str, url: str, graph: str,
            since: datetime | None, previous: str | None, extract: bool, budget: int) -> dict[str, float]:
    """One pass of ingest, candidates, (extract,) refine and graph load; seconds per stage."""
    from kg.backends.falkordb.store import FalkorDBStore
    from kg.load import RetryPolicy, load_directory
    from pipelines.candidates.job import run_candidates
    from pipelines.config import CandidatesSection, IngestSection, RaySection
    from pipelines.extract.config import ExtractSection
    from pipelines.extract.job import run_extract
    from pipelines.ingest.job import run_ingest
    from pipelines.ray_runtime import ensure_ray
    from pipelines.refine.concepts import existing_concepts
    from pipelines.refine.config import RefineSection
    from pipelines.refine.job import RefineContext, RefineInputs, run_refine
    from pipelines.report import Timer
    from pipelines.steps.refine import text_embedder

    timer = Timer()
    ensure_ray(RaySection(progress_bars=False))
    seconds = {"ray start": timer.elapsed()}
    out = work / name
    ingest = run_ingest(IngestSection(format="parquet", events_path=str(events), items_path=str(items)),
                        out / "ingest", since=since)
    seconds["ingest"] = ingest.wall_s
    config = CandidatesSection(llm_budget=budget, **CANDIDATES)
    seconds["candidates"] = run_candidates(config, out / "ingest", out / "candidates", since,
                                           work / previous / "candidates" if previous else None).wall_s
    if extract:
        settings = ExtractSection(cache_dir=str(work / "answer_cache"), max_items=budget // 4)
        seconds["extract"] = run_extract(settings, out / "ingest", out / "candidates", out / "extract",
                                         name).wall_s
    context = RefineContext(critic=None, curated=set(), rejected=set(), concepts=existing_concepts([]),
                            similarity=None, embed=text_embedder(work / "text_cache"))
    inputs = RefineInputs(out / "ingest", out / "candidates", out / "extract" if extract else None,
                          work / previous / "refine" if previous else None)
    refine = run_refine(RefineSection(), inputs, out / "refine", name, context)
    seconds["refine"] = refine.wall_s
    load = Timer()
    with FalkorDBStore(url, graph) as store:
        if previous is None:
            store.clear()  # the history's graph, or the full recompute's own
        load_directory(store, out / "refine", 5_000, RetryPolicy())
    seconds["graph load"] = load.elapsed()
    seconds["relations sent"] = refine.rows["relations_sent"]
    return seconds


def main() -> None:
    """Parse flags, set up the history, time the increment and the full recompute, print both."""
    from kg.backends.falkordb import server as falkordb_server

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--extract", action="store_true", help="Include the extract stage (local LLM).")
    parser.add_argument("--llm-budget", type=int, default=100, help="Pairs queued for the LLM.")
    parser.add_argument("--work", type=Path, default=None, help="Scratch dir (default: a temp dir).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kgrec-bench-incremental-"))
    info = falkordb_server.start(work / "falkordb")
    try:
        events, items, since = _history(args.events, args.seed, work)
        common = (info.url, args.extract, args.llm_budget)
        _, _, history = measure(_run, work, work / "raw_history", items, "history", common, "daily", None,
                                None)
        inc_s, inc_peak, increment = measure(_run, work, events, items, "increment", common, "daily", since,
                                             "history")
        full_s, full_peak, full = measure(_run, work, events, items, "full", common, "full", None, None)
        new = pl.scan_parquet(str(work / "increment" / "ingest" / "events" / "*.parquet")).select(
            pl.len()).collect().item()
        set_up = sum(v for k, v in history.items() if k != "relations sent")
        print(f"events: {args.events:,} over 30 days; increment since {since.isoformat()}: {new:,} "
              f"({new / args.events:.1%}); history set-up {set_up:.1f} s")
        print(f"{'stage':<16}{'increment':>13}{'full':>10}   (seconds; relations sent: rows)")
        for stage in full:
            print(f"{stage:<16}{increment[stage]:>13.1f}{full[stage]:>10.1f}")
        print(f"{'wall (process)':<16}{inc_s:>13.1f}{full_s:>10.1f}   peak RSS GiB {inc_peak / GIB:.2f} vs "
              f"{full_peak / GIB:.2f}")
        print(f"increment / full recompute: {inc_s / full_s:.1%} of the wall time (target <= 20%)")
    finally:
        falkordb_server.stop(work / "falkordb")
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, events: Path, items: Path, name: str, common: tuple[str, bool, int], graph: str,
         since: datetime | None, previous: str | None) -> dict[str, float]:
    url, extract, budget = common
    return _stages(work, events, items, name, url, graph, since, previous, extract, budget)


if __name__ == "__main__":
    main()
