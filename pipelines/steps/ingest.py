"""The run's first steps: synthetic data (when `run.source` is 'synth'), then ingest."""

from __future__ import annotations

from datetime import datetime

from pipelines.config import Settings
from pipelines.ingest.job import CONFIG_KEYS, run_ingest
from pipelines.manifest import RunDirectory
from pipelines.report import StageReport, Timer
from pipelines.synth.job import generate


def synth_step(settings: Settings, run: RunDirectory) -> Settings:
    """Generate data into the run; returns the settings with ingest pointed at it."""
    with run.stage("synth"):
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


def ingest_step(settings: Settings, run: RunDirectory, since: datetime | None = None) -> None:
    """The configured sources into the run's canonical `events` and `items` tables (events since `since`)."""
    with run.stage("ingest"):
        run.record(run_ingest(settings.ingest, run.stage_dir("ingest"), CONFIG_KEYS, since))
