"""`kgrec run`: every stage that exists, end to end, into a fresh run directory."""

from __future__ import annotations

import logging
from pathlib import Path

from kg.factory import embedded_server_for_run, make_store
from pipelines.config import Settings
from pipelines.ingest.job import CONFIG_KEYS, source_files
from pipelines.manifest import RunDirectory
from pipelines.outputs import require_output_dir
from pipelines.ray_runtime import ensure_ray
from pipelines.steps.candidates import candidates_step
from pipelines.steps.extract import extract_step
from pipelines.steps.graph import claim, graph_steps
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
    _preflight(settings)
    with embedded_server_for_run(settings.graph):  # up for the whole run: claimed first, then refine
        with make_store(settings.graph) as store:  # before Ray: the graph may be the problem
            claim(store, settings.graph, settings.dataset)
        run = RunDirectory(Path(settings.run.runs_dir), settings)
        log.info("run %s -> %s", run.run_id, run.path)
        try:
            ensure_ray(settings.ray)
            if settings.run.source == "synth":
                settings = synth_step(settings, run)
            ingest_step(settings, run)
            candidates_step(settings, run)
            extract_step(settings, run)
            refine_step(settings, run)  # reads the curators' decisions from the graph store
            graph_steps(settings, run)
            _model_steps(settings, run)
            write_summary(run)
        except BaseException as e:
            run.finish(e)
            raise
    run.finish()
    return run


def _preflight(settings: Settings) -> None:
    """What can be checked in a second is checked before minutes of work: the sources and the output root.

    Raises:
        InputDataError: an ingest path is missing, empty or of an unknown format.
        StageOutputError: `run.runs_dir` cannot be a directory.
    """
    if settings.run.source == "files":
        source_files(settings.ingest, CONFIG_KEYS)
    require_output_dir(Path(settings.run.runs_dir), "run.runs_dir")


def _model_steps(settings: Settings, run: RunDirectory) -> None:
    """Train and export (and the CTR evaluation when `run.ctr`); torch is imported only now."""
    from pipelines.steps.ctr import ctr_run_step
    from pipelines.steps.gnn import gnn_steps

    gnn_steps(settings, run)
    if settings.run.ctr:
        with run.stage("ctr"):
            ctr_run_step(settings, run)
