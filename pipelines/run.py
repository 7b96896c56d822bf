"""`kgrec run`: every stage that exists, end to end, into a fresh run directory."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kg.errors import StageOutputError
from kg.factory import embedded_server_for_run, make_store
from pipelines.candidates.periods import check_increment
from pipelines.config import Settings
from pipelines.extract.vllm_versions import check_vllm_versions
from pipelines.ingest.job import CONFIG_KEYS, source_files
from pipelines.manifest import RunDirectory, latest_succeeded
from pipelines.outputs import require_complete, require_output_dir
from pipelines.ray_runtime import ensure_ray
from pipelines.refine.increment import require_held
from pipelines.steps.candidates import candidates_step
from pipelines.steps.extract import extract_step
from pipelines.steps.graph import claim, graph_steps
from pipelines.steps.ingest import ingest_step, synth_step
from pipelines.steps.refine import refine_step
from pipelines.summary import write_summary

log = logging.getLogger("kgrec")


@dataclass(frozen=True)
class Increment:
    """An incremental run: the events at or after `since`, added to the run at `previous`."""

    since: datetime
    previous: Path


def run_pipeline(settings: Settings, increment: Increment | None = None) -> RunDirectory:
    """Run every stage, synth (if configured) through train, export and CTR (`run.ctr`).

    Between extract and the graph load, refine decides what the answers say. The manifest
    records each stage as it finishes. An `increment` ingests only the new events, adds their
    counts to the previous run's candidates, sends the graph only what changed (refine), asks
    the LLM only new questions (the answer cache) and fine-tunes the previous run's model.

    A failing stage marks the manifest failed with the error and re-raises it.
    """
    _preflight(settings, increment)
    with embedded_server_for_run(settings.graph):  # up for the whole run: claimed first, then refine
        with make_store(settings.graph) as store:  # before Ray: the graph may be the problem
            claim(store, settings.graph, settings.dataset)
        run = RunDirectory(Path(settings.run.runs_dir), settings)
        if increment is not None:
            run.manifest.since, run.manifest.previous = increment.since, str(increment.previous)
        log.info("run %s -> %s%s", run.run_id, run.path,
                 f" (events since {increment.since.isoformat()}, added to {increment.previous})"
                 if increment else "")
        try:
            ensure_ray(settings.ray)
            if settings.run.source == "synth":
                settings = synth_step(settings, run)
            since, previous = (increment.since, increment.previous) if increment else (None, None)
            ingest_step(settings, run, since)
            candidates_step(settings, run, since, previous and previous / "candidates")
            extract_step(settings, run)
            # reads the curators' decisions from the graph store
            refine_step(settings, run, previous and previous / "refine")
            graph_steps(settings, run)
            _model_steps(settings, run, previous and previous / "model")
            write_summary(run)
        except BaseException as e:
            run.finish(e)
            raise
    run.finish()
    return run


def _preflight(settings: Settings, increment: Increment | None) -> None:
    """What can be checked in a second is checked before minutes of work: the sources and the output root.

    Raises:
        InputDataError: an ingest path is missing, empty or of an unknown format.
        StageOutputError: `run.runs_dir` cannot be a directory, or the previous run of an
            increment lacks a finished candidates, refine or train output.
        ConfigError: `extract.backend` is vllm and the installed Ray / vLLM are not a known-good pair.
    """
    if settings.extract.backend == "vllm":  # else found at the extract step, after ingest and candidates
        check_vllm_versions()
    if settings.run.source == "files":
        source_files(settings.ingest, CONFIG_KEYS)
    require_output_dir(Path(settings.run.runs_dir), "run.runs_dir")
    if increment is not None:
        check_increment(increment.previous / "candidates", increment.since)
        require_held(increment.previous / "refine")
        require_complete(increment.previous / "model", "train", "--previous")


def previous_run(runs_dir: Path, given: Path | None) -> Path:
    """The run an increment adds to: `given`, else the newest succeeded run under `runs_dir`.

    Raises:
        StageOutputError: no run is given and none under `runs_dir` succeeded.
    """
    if given is not None:
        return given
    found = latest_succeeded(runs_dir)
    if found is None:
        raise StageOutputError(str(runs_dir), "no succeeded run to add the new events to; run `kgrec run` "
                               "without --since first, or pass --previous")
    return found


def _model_steps(settings: Settings, run: RunDirectory, warm_start: Path | None) -> None:
    """Train (from `warm_start`'s weights, if given) and export, and the CTR evaluation when `run.ctr`.

    Torch is imported only now.
    """
    from pipelines.steps.ctr import ctr_run_step
    from pipelines.steps.gnn import gnn_steps

    gnn_steps(settings, run, warm_start)
    if settings.run.ctr:
        with run.stage("ctr"):
            ctr_run_step(settings, run)
