"""The run's candidates step: pairs mined from the run's ingested events."""

from __future__ import annotations

from pipelines.candidates.job import run_candidates
from pipelines.config import Settings
from pipelines.manifest import RunDirectory


def candidates_step(settings: Settings, run: RunDirectory) -> None:
    """Mine the run's ingest output into `candidates/` (pairs, LLM queue, query items)."""
    with run.stage("candidates"):
        run.record(run_candidates(settings.candidates, run.stage_dir("ingest"), run.stage_dir("candidates")))
