"""The graph steps of `kgrec run` and `kgrec graph load|snapshot`: load the refined input, snapshot.

The store comes from `kg.factory`; the load and the snapshot are `kg.load` and `kg.snapshot`,
reported as stages.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from kg.config import GraphSection
from kg.errors import reading
from kg.factory import embedded_server_for_run, make_store
from kg.load import RetryPolicy, load_directory, require_graph_input
from kg.schema import DatasetMark
from kg.snapshot import write_snapshot
from kg.store import GraphStore
from pipelines.config import Settings
from pipelines.manifest import RunDirectory
from pipelines.outputs import count_rows
from pipelines.progress import progress_bar
from pipelines.report import StageReport, Timer

log = logging.getLogger("kgrec")


CLAIMS = {"same": "holds this dataset already", "new": "was empty", "shared": "holds other datasets too "
          "(graph.shared)", "adopted": "held data no dataset marked (loaded before kgrec marked graphs); "
          "taken to be this dataset's", "cleared": "held another dataset, deleted (graph.clear_graph)"}


def graph_steps(settings: Settings, run: RunDirectory) -> None:
    """The run's refined graph input (`refine/`) into the graph store, then a snapshot for the GNN."""
    with embedded_server_for_run(settings.graph):
        with run.stage("graph_load"):
            run.record(load_step(settings.graph, run.stage_dir("refine"), settings.dataset))
        with run.stage("snapshot"):
            run.record(snapshot_step(settings.graph, datetime.now(UTC), run.stage_dir("snapshot")))


def claim(store: GraphStore, settings: GraphSection, dataset: DatasetMark) -> None:
    """Claim the store's graph for `dataset` before writing (`GraphStore.claim`), and say what it found.

    Raises:
        GraphHoldsOtherDataset: it holds another dataset (neither graph.shared nor graph.clear_graph).
    """
    outcome = store.claim(dataset, settings.shared, settings.clear_graph)
    level = logging.WARNING if outcome in ("adopted", "cleared") else logging.INFO
    log.log(level, "%s: %s; %s", store.name, dataset.description, CLAIMS[outcome])


def load_step(settings: GraphSection, in_dir: Path, dataset: DatasetMark) -> StageReport:
    """`graph load`: load `in_dir` into the configured store as `dataset`'s, with progress and retries."""
    timer = Timer()
    require_graph_input(in_dir)  # before the store is connected: the input is what to fix first
    with reading(in_dir / "relations", "the graph input's relations (Parquet)",
                 "write the input again with `kgrec refine`"):
        total = count_rows(in_dir / "relations")
    policy = RetryPolicy(max_retries=settings.max_retries, backoff_s=settings.retry_backoff_s)
    with make_store(settings) as store:
        claim(store, settings, dataset)
        with progress_bar("graph load", total=total) as advance:
            report = load_directory(store, in_dir, settings.batch_size, policy, advance, settings.writers)
        counts, held = store.counts(), store.datasets()
    return StageReport(
        name="graph_load",
        rows={"items": report.items, "concepts": report.concepts,
              "relations_read": report.relations_read, "relations_counted": report.relations_counted,
              "graph_nodes": int(counts["nodes"]), "graph_relations": int(counts["relations"])},
        bad_rows={f"relations: {k}": v for k, v in report.quarantined.items()},
        wall_s=timer.elapsed(),
        outputs={"store": store.name, "quarantine": str(in_dir / "_load" / "quarantine")},
        details={"batches": report.batches, "resumed_after_batch": report.resumed_after_batch,
                 "graph": store.name, "datasets": "; ".join(mark.description for mark in held)},
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
