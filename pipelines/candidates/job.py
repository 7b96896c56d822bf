"""`kgrec candidates`: canonical events -> item pairs, the LLM queue and query->item pairs."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import polars as pl
import pyarrow as pa

from kg.arrow_schema import arrow_schema_of
from kg.schema import TABLE_MODELS
from pipelines.candidates import buckets, periods
from pipelines.candidates.mining import Increment, MiningResult, mine_with_ray
from pipelines.config import CandidatesSection
from pipelines.outputs import (
    begin_stage,
    mark_complete,
    require_complete,
    write_dataset,
    write_table,
)
from pipelines.ray_runtime import cluster_cpus, shuffle_partitions, spill_count
from pipelines.report import StageReport, Timer

log = logging.getLogger("kgrec")

OUTPUT_TABLES = ("pairs", "llm_queue", "query_items")


def run_candidates(config: CandidatesSection, in_dir: Path, out_dir: Path, since: datetime | None = None,
                   previous: Path | None = None) -> StageReport:
    """Mine `in_dir/events` (an ingest output) into `out_dir/{pairs,llm_queue,query_items,counts}`.

    With `since` and `previous` (a candidates output), only the events at or after `since` are
    counted, and the statistics come from their counts summed with `previous`'s
    (`pipelines.candidates.periods`).

    Raises:
        StageOutputError: `in_dir` is not a finished ingest output, or `previous` not a
            finished candidates output with counts.
        InputDataError: `since` without `previous` or the reverse, or `since` not after the
            events `previous` counted.
    """
    timer = Timer()
    require_complete(in_dir, "ingest")
    events_dir = in_dir / "events"
    held = periods.check_increment(previous, since)
    begin_stage(out_dir, "candidates")
    periods.carry_over(previous, out_dir)
    period = _period(events_dir, since)
    report = StageReport(name="candidates", rows={"events_in": period.events},
                         details={"periods": len(held.periods) + 1, "since": str(since) if since else "all"})
    cpus = cluster_cpus()
    # Chosen once, by the full run (even one over no events), and kept by every increment.
    n_buckets = held.buckets or config.count_buckets or buckets.bucket_count(period.events, cpus)
    if period.events == 0 and not held.periods:
        log.warning("candidates: %s holds no events; writing empty outputs", events_dir)
        for name in OUTPUT_TABLES:
            report.rows[name] = write_table(_empty(name), out_dir / name)
    else:
        def partitions_for(rows: int) -> int:
            return config.shuffle_partitions or shuffle_partitions(rows, cpus)

        log.info("candidates: %d new events, %d earlier period(s), %d CPUs", period.events,
                 len(held.periods), cpus)
        increment = Increment(out_dir, since, period.events, n_buckets)
        with spill_count() as spilled:
            result = mine_with_ray(events_dir, increment, config, partitions_for)
            _write_result(result, out_dir, report)
        report.details.update({"baskets": result.n_baskets, "capped_baskets": result.capped_baskets,
                               "event_shuffle_partitions": partitions_for(period.events),
                               "count_buckets": n_buckets,
                               "object_store_spilled_bytes": spilled.spilled_bytes,
                               "object_store_restored_bytes": spilled.restored_bytes})
    periods.write_periods(out_dir, periods.Periods(periods=[*held.periods, period], buckets=n_buckets,
                                                   bucket_hash=buckets.HASH))
    report.wall_s = timer.elapsed()
    report.outputs = {name: str(out_dir / name) for name in (*OUTPUT_TABLES, "counts")}
    mark_complete(out_dir, report.model_dump())
    return report


def _period(events_dir: Path, since: datetime | None) -> periods.Period:
    """The events this run counts: how many, and their first and last time."""
    if not any(events_dir.glob("*.parquet")):
        return periods.Period(label=periods.label_for(since), since=since, first=None, last=None, events=0)
    events = pl.scan_parquet(str(events_dir / "*.parquet")).select("ts")
    if since is not None:
        events = events.filter(pl.col("ts") >= since)
    span = events.select(pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"),
                         pl.len().alias("events")).collect(engine="streaming").row(0, named=True)
    return periods.Period(label=periods.label_for(since), since=since, **span)


def _write_result(result: MiningResult, out_dir: Path, report: StageReport) -> None:
    report.rows["pairs"] = (write_dataset(result.pairs, out_dir / "pairs") if result.pairs is not None
                            else write_table(_empty("pairs"), out_dir / "pairs"))
    report.rows["llm_queue"] = write_table(result.llm_queue, out_dir / "llm_queue")
    report.rows["query_items"] = (
        write_dataset(result.query_items, out_dir / "query_items")
        if result.query_items is not None
        else write_table(_empty("query_items"), out_dir / "query_items")
    )


def _empty(table: str) -> pa.Table:
    return arrow_schema_of(TABLE_MODELS[table]).empty_table()
