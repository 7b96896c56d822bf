"""Stage outputs: Parquet directories that are replaced whole, and completion markers.

A stage writes its tables (overwriting whatever a previous attempt left), then a
`_SUCCESS.json` marker. Readers check the marker, so a run killed mid-write is never
mistaken for a finished one, and re-running a stage is always safe.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from kg.errors import StageOutputError

if TYPE_CHECKING:
    from ray.data import Dataset

MARKER = "_SUCCESS.json"


def write_dataset(dataset: Dataset, path: Path) -> int:
    """Write `dataset` as Parquet files under `path`, replacing what was there; return rows."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    dataset.write_parquet(str(path))
    return count_rows(path)


def count_rows(path: Path) -> int:
    """Rows in a Parquet directory, from file footers only (no data is read)."""
    if not any(path.glob("*.parquet")):
        return 0
    return int(pads.dataset(str(path), format="parquet").count_rows())


def begin_stage(stage_dir: Path) -> None:
    """Drop the marker before writing, so an interrupted rewrite reads as incomplete."""
    stage_dir.mkdir(parents=True, exist_ok=True)
    (stage_dir / MARKER).unlink(missing_ok=True)


def mark_complete(stage_dir: Path, summary: dict[str, Any]) -> None:
    """Record that every table of the stage was written."""
    (stage_dir / MARKER).write_text(json.dumps(summary, indent=2, default=str))


def require_complete(stage_dir: Path, stage: str) -> None:
    """Raise StageOutputError unless `stage_dir` holds a finished stage's output."""
    if not stage_dir.is_dir():
        raise StageOutputError(str(stage_dir), f"no {stage} output here")
    if not (stage_dir / MARKER).exists():
        raise StageOutputError(
            str(stage_dir), f"{stage} output is incomplete (interrupted run?); run `kgrec {stage}` again"
        )


def write_table(table: pa.Table, path: Path) -> int:
    """Write a driver-side (small) table as the only file under `path`; return rows."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    pq.write_table(table, path / "part-00000.parquet")
    return int(table.num_rows)
