"""What each stage reports into the run manifest: rows, refused rows, wall time, outputs."""

from __future__ import annotations

import logging
import time

from pydantic import BaseModel, Field

log = logging.getLogger("kgrec")


class StageReport(BaseModel):
    """One stage's account of itself."""

    name: str
    rows: dict[str, int] = Field(default_factory=dict, description="Output table -> row count.")
    bad_rows: dict[str, int] = Field(
        default_factory=dict, description="Refusal reason -> rows set aside (in the quarantine)."
    )
    wall_s: float = 0.0
    outputs: dict[str, str] = Field(default_factory=dict, description="Name -> path written.")
    details: dict[str, float | int | str] = Field(default_factory=dict)


class Timer:
    """Wall-clock seconds since construction."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the timer started, rounded to milliseconds."""
        return round(time.perf_counter() - self._start, 3)


def summary_line(report: StageReport) -> str:
    """A finished stage in one log line: its name, wall time, rows and refused rows."""
    rows = ", ".join(f"{name} {count:,}" for name, count in report.rows.items()) or "no rows"
    refused = sum(report.bad_rows.values())
    return (f"{report.name}: done in {report.wall_s:.1f} s ({rows}"
            + (f"; {refused:,} rows quarantined" if refused else "") + ")")
