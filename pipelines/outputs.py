"""Stage outputs: Parquet directories that are replaced whole, and completion markers.

A stage first records which stage it is (`_STARTED.json`), writes its tables (overwriting
whatever a previous attempt left), then a `_SUCCESS.json` marker. Readers check the marker, so
a run killed mid-write is never mistaken for a finished one, and re-running a stage is always
safe; the first marker lets a reader say whether a directory without the second is an
interrupted output or something else.
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
STARTED = "_STARTED.json"
# What the stages that others read write, to tell an output interrupted before `_STARTED.json`
# existed (kgrec before it) from a directory that is something else: its entries are a subset.
STAGE_ENTRIES = {
    "ingest": {"events", "items", "quarantine"},
    "candidates": {"pairs", "llm_queue", "query_items", "counts"},
    "extract": {"tasks", "answers", "failures", "relations", "concepts", "facts", "llm_server.log"},
    "train": {"model.pt", "ids.parquet", "features.npy", "train.json"},
}


def write_dataset(dataset: Dataset, path: Path, partition_by: str | None = None,
                  min_rows_per_file: int | None = None) -> int:
    """Write `dataset` as Parquet files under `path`, replacing what was there; return rows.

    `partition_by` writes each value's rows under `path/<column>=<value>/` (the column itself
    is then in the directory names, not the files); `min_rows_per_file` bundles small blocks
    into one write, which bounds the files a partitioned write makes.
    """
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    dataset.write_parquet(str(path), partition_cols=[partition_by] if partition_by else None,
                          min_rows_per_file=min_rows_per_file)
    return count_rows(path)


def count_rows(path: Path) -> int:
    """Rows in a Parquet directory and the directories under it, from file footers only."""
    files = sorted(str(p) for p in path.rglob("*.parquet"))
    return int(pads.dataset(files, format="parquet").count_rows()) if files else 0


def begin_stage(stage_dir: Path, stage: str) -> None:
    """Claim `stage_dir` for `stage` and drop the completion marker before writing.

    An interrupted rewrite then reads as incomplete, and `_STARTED.json` (naming the stage)
    tells an interrupted output of this stage apart from a directory that is something else.

    Raises:
        StageOutputError: `stage_dir` (or a folder above it) is a file.
    """
    require_output_dir(stage_dir)
    stage_dir.mkdir(parents=True, exist_ok=True)
    (stage_dir / MARKER).unlink(missing_ok=True)
    (stage_dir / STARTED).write_text(json.dumps({"stage": stage}))


def require_output_dir(path: Path, given_as: str = "--out") -> None:
    """Refuse an output directory that cannot be made: it, or a folder above it, is a file.

    Raises:
        StageOutputError: naming the file in the way and the flag (or key) `given_as` to change.
    """
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                where = "it is" if candidate == path else f"{candidate} is"
                raise StageOutputError(str(path), f"cannot write an output directory here: {where} a "
                                       f"file; pass another {given_as}")
            return


def mark_complete(stage_dir: Path, summary: dict[str, Any]) -> None:
    """Record that every table of the stage was written."""
    (stage_dir / MARKER).write_text(json.dumps(summary, indent=2, default=str))


def started_stage(stage_dir: Path) -> str | None:
    """The stage `begin_stage` recorded in `stage_dir`, if any (outputs before it have none)."""
    try:
        return str(json.loads((stage_dir / STARTED).read_text())["stage"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def require_complete(stage_dir: Path, stage: str, given_as: str | None = None) -> None:
    """Raise StageOutputError unless `stage_dir` holds a finished `stage` output.

    The message says what the directory is instead: missing, a file, another stage's output,
    this stage's output left incomplete by an interrupted run, or not a stage output at all
    (a raw data folder, say), and what to pass; `given_as` names the flag it came from.
    """
    wrote = f"pass the directory `kgrec {stage}` wrote (its --out)" + (f" as {given_as}" if given_as else "")
    if not stage_dir.exists():
        raise StageOutputError(str(stage_dir), f"no {stage} output here (no such directory); {wrote}")
    if not stage_dir.is_dir():
        raise StageOutputError(str(stage_dir), f"is a file, not {_a(stage)} output directory; {wrote}")
    recorded = started_stage(stage_dir)
    if recorded is not None and recorded != stage:
        kind = _a(recorded) if (stage_dir / MARKER).exists() else f"an incomplete {recorded}"
        raise StageOutputError(str(stage_dir), f"is {kind} output, not {_a(stage)} output; {wrote}")
    if (stage_dir / MARKER).exists():
        return
    names = sorted(p.name for p in stage_dir.iterdir() if not p.name.startswith(("_", ".")))
    if recorded == stage or (recorded is None and names and set(names) <= STAGE_ENTRIES.get(stage, set())):
        raise StageOutputError(
            str(stage_dir), f"{stage} output is incomplete (interrupted run?); run `kgrec {stage}` again"
        )
    if not names:
        raise StageOutputError(str(stage_dir), f"is an empty directory, not {_a(stage)} output; {wrote}")
    shown = ", ".join(n + ("/" if (stage_dir / n).is_dir() else "") for n in names[:6])
    raise StageOutputError(str(stage_dir), f"is not {_a(stage)} output (no {MARKER}; it holds {shown}"
                           f"{', ...' if len(names) > 6 else ''}); {wrote}")


def _a(stage: str) -> str:
    return ("an " if stage[0] in "aeiou" else "a ") + stage


def write_table(table: pa.Table, path: Path) -> int:
    """Write a driver-side (small) table as the only file under `path`; return rows."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    pq.write_table(table, path / "part-00000.parquet")
    return int(table.num_rows)
