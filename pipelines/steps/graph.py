"""The graph steps of `kgrec run` and `kgrec graph load|snapshot`: load the refined input, snapshot.

The store comes from `kg.factory`; the load and the snapshot are `kg.load` and `kg.snapshot`,
reported as stages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kg.config import GraphSection
from kg.errors import reading
from kg.factory import embedded_server_for_run, make_store
from kg.load import RetryPolicy, load_directory, require_graph_input
from kg.snapshot import write_snapshot
from pipelines.config import Settings
from pipelines.manifest import RunDirectory
from pipelines.outputs import count_rows
from pipelines.progress import progress_bar
from pipelines.report import StageReport, Timer


def graph_steps(settings: Settings, run: RunDirectory) -> None:
    """The run's refined graph input (`refine/`) into the graph store, then a snapshot for the GNN."""
    with embedded_server_for_run(settings.graph):
        run.record(load_step(settings.graph, run.stage_dir("refine")))
        run.record(snapshot_step(settings.graph, datetime.now(UTC), run.stage_dir("snapshot")))


def load_step(settings: GraphSection, in_dir: Path) -> StageReport:
    """`graph load`: load `in_dir` into the configured store, with progress and retries."""
    timer = Timer()
    require_graph_input(in_dir)  # before the store is connected: the input is what to fix first
    with reading(in_dir / "relations", "the graph input's relations (Parquet)",
                 "write the input again with `kgrec refine`"):
        total = count_rows(in_dir / "relations")
    policy = RetryPolicy(max_retries=settings.max_retries, backoff_s=settings.retry_backoff_s)
    with make_store(settings) as store, progress_bar("graph load", total=total) as advance:
        report = load_directory(store, in_dir, settings.batch_size, policy, advance, settings.writers)
        counts = store.counts()
    return StageReport(
        name="graph_load",
        rows={"items": report.items, "concepts": report.concepts,
              "relations_read": report.relations_read, "relations_counted": report.relations_counted,
              "graph_nodes": int(counts["nodes"]), "graph_relations": int(counts["relations"])},
        bad_rows={f"relations: {k}": v for k, v in report.quarantined.items()},
        wall_s=timer.elapsed(),
        outputs={"store": store.name, "quarantine": str(in_dir / "_load" / "quarantine")},
        details={"batches": report.batches, "resumed_after_batch": report.resumed_after_batch},
    )


def snapshot_step(settings: GraphSection, as_of: datetime, out_dir: Path) -> StageReport:
    """`graph snapshot`: the graph at `as_of` with the configured statuses, to Parquet."""
    timer = Timer()
    with make_store(settings) as store:
        manifest = write_snapshot(store, as_of, settings.snapshot_statuses, out_dir, settings.snapshot_time)
    stats = manifest["statistics"]
    return StageReport(
        name="snapshot",
        rows={"relations": manifest["relations"], "items": manifest["items"],
              "concepts": manifest["concepts"]},
        wall_s=timer.elapsed(),
        outputs={"dir": str(out_dir)},
        details={"components": stats["components"], "largest_component": stats["largest_component"],
                 "degree_max": stats["degree_max"], "degree_median": stats["degree_median"]},
    )
