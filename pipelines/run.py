"""`kgrec run`: every stage that exists, end to end, into a fresh run directory."""

from __future__ import annotations

import logging
from pathlib import Path

from kg.factory import embedded_server_for_run
from pipelines.config import Settings
from pipelines.manifest import RunDirectory
from pipelines.ray_runtime import ensure_ray
from pipelines.steps.candidates import candidates_step
from pipelines.steps.extract import extract_step
from pipelines.steps.graph import graph_steps
from pipelines.steps.ingest import ingest_step, synth_step
from pipelines.steps.refine import refine_step
from pipelines.summary import write_summary

log = logging.getLogger("kgrec")


def run_pipeline(settings: Settings) -> RunDirectory:
    """Run every stage, synth (if configured) through train, export and CTR (`run.ctr`).

    Between extract and the graph load, refine decides what the answers say. The manifest
    records each stage as it finishes.

    A failing stage marks the manifest failed with the error and re-raises it.
    """
    run = RunDirectory(Path(settings.run.runs_dir), settings)
    log.info("run %s -> %s", run.run_id, run.path)
    try:
        ensure_ray(settings.ray)
        if settings.run.source == "synth":
            settings = synth_step(settings, run)
        ingest_step(settings, run)
        candidates_step(settings, run)
        extract_step(settings, run)
        with embedded_server_for_run(settings.graph):  # refine reads the curators' decisions
            refine_step(settings, run)
            graph_steps(settings, run)
        _model_steps(settings, run)
        write_summary(run)
    except BaseException as e:
        run.finish(e)
        raise
    run.finish()
    return run


def _model_steps(settings: Settings, run: RunDirectory) -> None:
    """Train and export (and the CTR evaluation when `run.ctr`); torch is imported only now."""
    from pipelines.steps.ctr import ctr_run_step
    from pipelines.steps.gnn import gnn_steps

    gnn_steps(settings, run)
    if settings.run.ctr:
        ctr_run_step(settings, run)
