"""`kgrec candidates`: canonical events -> item pairs, the LLM queue and query->item pairs."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa

from kg.arrow_schema import arrow_schema_of
from kg.schema import TABLE_MODELS
from pipelines.candidates.mining import mine_with_ray
from pipelines.candidates.stats import shuffle_partitions
from pipelines.config import CandidatesSection
from pipelines.outputs import (
    begin_stage,
    count_rows,
    mark_complete,
    require_complete,
    write_dataset,
    write_table,
)
from pipelines.ray_runtime import cluster_cpus, spill_count
from pipelines.report import StageReport, Timer

log = logging.getLogger("kgrec")

OUTPUT_TABLES = ("pairs", "llm_queue", "query_items")


def run_candidates(config: CandidatesSection, in_dir: Path, out_dir: Path) -> StageReport:
    """Mine `in_dir/events` (an ingest output) into `out_dir/{pairs,llm_queue,query_items}`.

    Raises:
        StageOutputError: `in_dir` is not a finished ingest output.
    """
    timer = Timer()
    require_complete(in_dir, "ingest")
    events_dir = in_dir / "events"
    n_events = count_rows(events_dir)
    begin_stage(out_dir, "candidates")
    report = StageReport(name="candidates", rows={"events_in": n_events})
    if n_events == 0:
        log.warning("candidates: %s holds no events; writing empty outputs", events_dir)
        for name in OUTPUT_TABLES:
            report.rows[name] = write_table(_empty(name), out_dir / name)
    else:
        cpus = cluster_cpus()

        def partitions_for(rows: int) -> int:
            return config.shuffle_partitions or shuffle_partitions(rows, cpus)

        log.info("candidates: %d events, %d CPUs", n_events, cpus)
        with spill_count() as spilled:
            result = mine_with_ray(events_dir, n_events, config, partitions_for)
            report.rows["pairs"] = write_dataset(result.pairs, out_dir / "pairs")
            report.rows["llm_queue"] = write_table(result.llm_queue, out_dir / "llm_queue")
            report.rows["query_items"] = (
                write_dataset(result.query_items, out_dir / "query_items")
                if result.query_items is not None
                else write_table(_empty("query_items"), out_dir / "query_items")
            )
        report.details.update({"baskets": result.n_baskets, "capped_baskets": result.capped_baskets,
                               "event_shuffle_partitions": partitions_for(n_events),
                               "object_store_spilled_bytes": spilled.spilled_bytes,
                               "object_store_restored_bytes": spilled.restored_bytes})
    report.wall_s = timer.elapsed()
    report.outputs = {name: str(out_dir / name) for name in OUTPUT_TABLES}
    mark_complete(out_dir, report.model_dump())
    return report


def _empty(table: str) -> pa.Table:
    return arrow_schema_of(TABLE_MODELS[table]).empty_table()
