"""Incremental runs: a 1-day increment on a 30-day history vs. a full recompute, in the same run.

    python benchmarks/incremental.py --events 10000000
    python benchmarks/incremental.py --events 1000000 --extract     # with the local LLM (cached answers)

Synthetic events over 30 days, written as a log of one Parquet file a day (the way a daily job's
input grows). The history is every day before the last (about 29/30 of the events). Set up first,
untimed: the history is ingested, mined (`user_window` baskets of a day, so no basket spans
midnight), refined and loaded into a graph of one embedded FalkorDB. Then the last day's file
arrives in the log, and, each in its own process (wall time includes Ray's start-up), the two
ways to get the new day in are timed:

- increment: `ingest --since` (which leaves the older days' files unread: their footers end
  before it), `candidates --since --previous`, `refine --previous`, graph load into the
  history's graph;
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


def _daily_log(events: int, seed: int, work: Path) -> tuple[Path, Path, datetime]:
    """Synthetic events written as a log of one Parquet file a day, the last day held back.

    Returns the log's directory, the items file and the last day's start (the increment's `since`).
    """
    from pipelines.config import SynthSection
    from pipelines.synth.job import generate

    synth = generate(SynthSection(events=events, seed=seed, days=30), work / "raw")
    frame = pl.read_parquet(synth.events_dir).with_columns(pl.col("ts").dt.date().alias("day"))
    # the last whole day: the synthetic span ends at its last day's midnight
    last = frame.select(pl.col("ts").max()).item()
    since = (last - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    (work / "log").mkdir()
    (work / "new_day").mkdir()
    for (day,), part in frame.partition_by("day", as_dict=True).items():
        to = work / ("new_day" if day >= since.date() else "log")
        part.drop("day").write_parquet(to / f"{day}.parquet")
    shutil.rmtree(work / "raw" / "events")
    return work / "log", synth.items_path, since


def _drop_new_day(work: Path) -> None:
    """The new day's file arrives in the log, as a daily job finds it."""
    for file in (work / "new_day").iterdir():
        file.rename(work / "log" / file.name)


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
        events, items, since = _daily_log(args.events, args.seed, work)
        common = (info.url, args.extract, args.llm_budget)
        _, _, history = measure(_run, work, events, items, "history", common, "daily", None, None)
        _drop_new_day(work)
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
