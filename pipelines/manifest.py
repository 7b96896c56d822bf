"""The run directory and its manifest: what ran, with what config, and what came out."""

from __future__ import annotations

import json
import logging
import os
import platform
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from pipelines.config import Settings
from pipelines.report import StageReport, Timer, summary_line

log = logging.getLogger("kgrec")

TRACKED_PACKAGES = ("kgrec", "ray", "polars", "pyarrow", "pydantic", "pydantic-settings",
                    "numpy", "networkx", "torch", "torch_geometric", "neo4j")


class RunManifest(BaseModel):
    """Written at the start of a run and rewritten after every stage."""

    run_id: str
    status: Literal["running", "succeeded", "failed"] = "running"
    error: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    config: dict[str, object]
    packages: dict[str, str]
    python: str = Field(default_factory=platform.python_version)
    since: datetime | None = Field(default=None, description="An incremental run: its first new event time.")
    previous: str | None = Field(default=None, description="An incremental run: the run it adds to.")
    stages: list[StageReport] = Field(default_factory=list)


def new_run_id() -> str:
    """Sortable and unique: UTC time to the second plus 4 random hex digits."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def latest_succeeded(runs_dir: Path) -> Path | None:
    """The newest run under `runs_dir` whose manifest says it succeeded (run ids sort by time)."""
    for path in sorted(runs_dir.glob("*/manifest.json"), reverse=True):
        try:
            if json.loads(path.read_text()).get("status") == "succeeded":
                return path.parent
        except (OSError, ValueError):
            continue
    return None


def package_versions() -> dict[str, str]:
    """Installed versions of the packages whose behaviour shapes the outputs."""
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


class RunDirectory:
    """`runs/<run_id>/`: one folder per stage plus `manifest.json`."""

    def __init__(self, root: Path, settings: Settings, run_id: str | None = None) -> None:
        self.run_id = run_id or new_run_id()
        self.path = root / self.run_id
        self.path.mkdir(parents=True, exist_ok=False)
        self.manifest = RunManifest(
            run_id=self.run_id, started_at=datetime.now(UTC),
            config=settings.model_dump(mode="json"), packages=package_versions(),
        )
        self.save()

    def stage_dir(self, name: str) -> Path:
        """Folder of one stage's outputs inside the run."""
        return self.path / name

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Log the start of stage `name`, and its failure with the time it ran (`record` logs the end).

        A run's log is then one line per stage start and end, whatever the stage logs between.
        """
        log.info("%s: started", name)
        timer = Timer()
        try:
            yield
        except BaseException as e:
            log.info("%s: failed after %.1f s (%s)", name, timer.elapsed(), type(e).__name__)
            raise

    def record(self, report: StageReport) -> None:
        """Append a finished stage's report, persist the manifest at once, and log the stage's end."""
        self.manifest.stages.append(report)
        self.save()
        log.info("%s", summary_line(report))

    def finish(self, error: BaseException | None = None) -> None:
        """Close the run as succeeded, or failed with the error that stopped it."""
        self.manifest.status = "failed" if error else "succeeded"
        self.manifest.error = f"{type(error).__name__}: {error}" if error else None
        self.manifest.finished_at = datetime.now(UTC)
        self.save()

    def save(self) -> None:
        """Atomic rewrite: a reader never sees half a manifest."""
        tmp = self.path / ".manifest.json.tmp"
        tmp.write_text(json.dumps(self.manifest.model_dump(mode="json"), indent=2))
        os.replace(tmp, self.path / "manifest.json")
