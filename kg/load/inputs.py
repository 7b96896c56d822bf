"""The input directory of a load: its Parquet tables, read in bounded batches.

`<in>/relations/`, `<in>/items/` and `<in>/concepts/` each hold Parquet files of one table;
a missing or empty directory is an empty table, except that `items/` must exist
(`require_graph_input`). The fingerprint names the relation files (path, size, modification
time) and the store, so a resume only trusts a state file written by a load of the same files
into the same graph.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads

from kg.errors import InputDataError

GRAPH_INPUT_HINT = "load the output of `kgrec refine` (it writes items/, relations/, concepts/)"


def require_graph_input(in_dir: Path) -> None:
    """Refuse a directory that is no graph input, before anything is loaded or connected.

    Relations are only stored between nodes the graph holds, so relations loaded without their
    items are quarantined as unknown, every one of them: pointing a load at a stage's
    `relations/` alone (an extract output, say) is a mistake worth stopping for. A load of
    relations between items the graph holds already passes an empty `items/`.

    Raises:
        InputDataError: `in_dir` is not a directory, or has no `items/` directory.
    """
    if not in_dir.is_dir():
        what = "is a file, not a directory" if in_dir.exists() else "no such directory"
        raise InputDataError(str(in_dir), f"{what}; {GRAPH_INPUT_HINT}")
    if (in_dir / "items").is_dir():
        return
    if (in_dir / "relations").is_dir():
        raise InputDataError(str(in_dir), "has relations/ but no items/: the relations' items would be "
                             f"quarantined as unknown; {GRAPH_INPUT_HINT}, or add an empty items/ when "
                             "the graph holds every item already")
    raise InputDataError(str(in_dir), "has no items/ and no relations/, so it is no graph input; "
                         f"{GRAPH_INPUT_HINT}")


def batches(directory: Path, batch_size: int) -> Iterator[pa.RecordBatch]:
    """The rows of a directory's Parquet files, at most `batch_size` at a time, in file order."""
    if (dataset := _dataset(directory)) is not None:
        yield from dataset.to_batches(batch_size=batch_size)


def row_count(directory: Path) -> int:
    """Rows in a directory's Parquet files, from their footers (no data is read)."""
    dataset = _dataset(directory)
    return 0 if dataset is None else int(dataset.count_rows())


def fingerprint(store_identity: str, in_dir: Path) -> str:
    """What a state file must match to be resumed: the store and `<in_dir>/relations/`'s files."""
    files = sorted((str(p.relative_to(in_dir)), p.stat().st_size, p.stat().st_mtime_ns)
                   for p in (in_dir / "relations").glob("*.parquet"))
    return hashlib.sha256(json.dumps([store_identity, files]).encode()).hexdigest()[:16]


def _dataset(directory: Path) -> pads.Dataset | None:
    """The Parquet files of an input directory; None when it has none."""
    if not directory.exists() or not any(directory.glob("*.parquet")):
        return None
    return pads.dataset(str(directory), format="parquet")
