"""`kgrec run`: every stage that exists, end to end, into a fresh run directory."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from pipelines.candidates.job import run_candidates
from pipelines.config import Settings
from pipelines.extract.job import run_extract
from pipelines.graph import build_graph_input, embedded_server_for_run, load_step, snapshot_step
from pipelines.ingest.job import run_ingest
from pipelines.manifest import RunDirectory
from pipelines.ray_runtime import ensure_ray
from pipelines.report import StageReport, Timer
from pipelines.summary import write_summary
from pipelines.synth.job import generate

log = logging.getLogger("kgrec")


def _synth_stage(settings: Settings, run: RunDirectory) -> Settings:
    """Generate data into the run and point ingest at it."""
    timer = Timer()
    out = generate(settings.synth, run.stage_dir("synth"))
    run.record(StageReport(
        name="synth", rows={"events": out.events, "items": out.items, "users": out.users,
                            "ground_truth": out.relations},
        wall_s=timer.elapsed(), outputs={"dir": str(run.stage_dir("synth"))},
    ))
    ingest = settings.ingest.model_copy(update={
        "format": "parquet", "events_path": str(out.events_dir), "items_path": str(out.items_path),
    })
    return settings.model_copy(update={"ingest": ingest})


def _graph_stages(settings: Settings, run: RunDirectory) -> None:
    """Behavioural relations into the graph store, then a snapshot of it for the GNN."""
    timer = Timer()
    counts = build_graph_input(run.stage_dir("ingest"), run.stage_dir("candidates"), run.run_id,
                               run.stage_dir("graph_input"), run.stage_dir("extract"))
    run.record(StageReport(name="graph_input", rows=counts, wall_s=timer.elapsed(),
                           outputs={"dir": str(run.stage_dir("graph_input"))}))
    with embedded_server_for_run(settings.graph):
        run.record(load_step(settings.graph, run.stage_dir("graph_input")))
        run.record(snapshot_step(settings.graph, datetime.now(UTC), run.stage_dir("snapshot")))


def _gnn_stages(settings: Settings, run: RunDirectory) -> None:
    """Train the temporal model on the run's events and snapshot, then export embeddings now."""
    from pipelines.gnn_steps import export_step, train_step

    run.record(train_step(settings.gnn, run.stage_dir("ingest"), run.stage_dir("snapshot"),
                          run.stage_dir("model")))
    run.record(export_step(settings.gnn, run.stage_dir("model"), datetime.now(UTC),
                           settings.gnn.embeddings_dir or run.stage_dir("embeddings")))


def _ctr_stage(settings: Settings, run: RunDirectory) -> None:
    """The CTR table on the run's own events, with point-in-time embeddings.

    The model trained above is exported again at times across the CTR training window and at
    its test split (`ctr_embeddings/`, `pipelines.ctr_step.export_versions`); every sample reads
    the latest version made before it, so the rankers' "+kgrec" arm never sees a sample's own
    events, or the test period, through the embeddings' state. The model's weights were fit on
    its own training share of events (before `train_until`); the report records when that
    reaches past the cutoff (`model_fit_after_cutoff`), which only a CTR window older than the
    model's validation share can cause.
    """
    from gnn.train import load_result
    from pipelines.ctr_step import ctr_step, export_versions, load_dataset

    data = load_dataset(settings.ctr, "events", run.stage_dir("ingest"))
    exports = export_versions(settings.gnn, run.stage_dir("model"), data, settings.ctr.embedding_versions,
                              run.stage_dir("ctr_embeddings"))
    report, _ = ctr_step(settings.ctr, data, exports, run.stage_dir("ctr"))
    fit_until = load_result(run.stage_dir("model")).train_until
    report.details["model_fit_after_cutoff"] = str(fit_until > data.cutoff)
    if fit_until > data.cutoff:
        log.warning("ctr: the model's weights were fit on events until %s, past the CTR test split (%s)",
                    fit_until, data.cutoff)
    run.record(report)


def run_pipeline(settings: Settings) -> RunDirectory:
    """Run every stage: synth (if configured) through train, export and CTR (`run.ctr`).

    The manifest records each stage as it finishes.

    A failing stage marks the manifest failed with the error and re-raises it.
    """
    run = RunDirectory(Path(settings.run.runs_dir), settings)
    log.info("run %s -> %s", run.run_id, run.path)
    try:
        ensure_ray(settings.ray)
        if settings.run.source == "synth":
            settings = _synth_stage(settings, run)
        run.record(run_ingest(settings.ingest, run.stage_dir("ingest")))
        run.record(run_candidates(settings.candidates, run.stage_dir("ingest"),
                                  run.stage_dir("candidates")))
        run.record(run_extract(settings.extract, run.stage_dir("ingest"), run.stage_dir("candidates"),
                               run.stage_dir("extract"), run.run_id))
        _graph_stages(settings, run)
        _gnn_stages(settings, run)
        if settings.run.ctr:
            _ctr_stage(settings, run)
        write_summary(run)
    except BaseException as e:
        run.finish(e)
        raise
    run.finish()
    return run
