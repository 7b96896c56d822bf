"""The run's extract step: the LLM asked about the run's queued pairs and their items."""

from __future__ import annotations

from pipelines.config import Settings
from pipelines.extract.job import run_extract
from pipelines.manifest import RunDirectory


def extract_step(settings: Settings, run: RunDirectory) -> None:
    """Answer the run's LLM queue into `extract/` (answers, relations, concepts, facts)."""
    with run.stage("extract"):
        run.record(run_extract(settings.extract, run.stage_dir("ingest"), run.stage_dir("candidates"),
                               run.stage_dir("extract"), run.run_id, settings.refine.types))
