"""The run's candidates step: pairs mined from the run's ingested events."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pipelines.candidates.job import run_candidates
from pipelines.config import Settings
from pipelines.manifest import RunDirectory


def candidates_step(settings: Settings, run: RunDirectory, since: datetime | None = None,
                    previous: Path | None = None) -> None:
    """Mine the run's ingest output into `candidates/` (pairs, LLM queue, query items, counts).

    An increment (`since`, `previous`: the previous run's candidates) adds its counts to those.
    """
    with run.stage("candidates"):
        run.record(run_candidates(settings.candidates, run.stage_dir("ingest"), run.stage_dir("candidates"),
                                  since, previous))
