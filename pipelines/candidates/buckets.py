"""Counts stored in buckets of their key, so the periods of a candidates output merge without a shuffle.

Each period's pair counts are written under `bucket=<b>/`, b a stable hash of item_a modulo the
output's bucket count (query counts: of the query). Every count of a key then lies in one bucket
of every period, so one task per bucket reads that bucket of all periods and sums it: the sums per
pair (and every pair of an item_a, as ranking needs) without moving rows between tasks. Before,
each run shuffled the counts of every period by item_a and by query: two hash shuffles, whose
fixed cost is most of a small daily increment's.

The hash must give the same bucket to a key in every process and every later run that adds to
the output, so it is pandas' `hash_array` (SipHash with a fixed key; documented as stable),
not Python's `hash` (salted per process) nor polars' (stable only within one version). Its name
is recorded in `counts/periods.json`; a later run refuses counts bucketed any other way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa

COLUMN = "bucket"
HASH = "pandas.util.hash_array"  # recorded with the counts: a different hash would split keys
EVENTS_PER_BUCKET = 2_000_000  # sized so a bucket of a full run's counts is a few 100k rows
ROWS_PER_FILE = 1_000_000  # the writes bundle blocks: files per period ~ rows / this * buckets
Combine = Callable[[pl.DataFrame], pl.DataFrame]  # sums one bucket's counts over every period


def bucket_count(events: int, cpus: int) -> int:
    """Buckets for a new output: one per EVENTS_PER_BUCKET events, at least one per CPU.

    Fixed for the output's life (an increment adds to the same buckets): a log that grows by
    a large factor is best re-counted by a full run, which sizes them again.
    """
    return max(cpus, math.ceil(events / EVENTS_PER_BUCKET))


def with_bucket(counts: pl.DataFrame, key: str, buckets: int) -> pl.DataFrame:
    """`counts` with the bucket of each row's `key` (a string column without nulls)."""
    hashed = pd.util.hash_array(counts[key].to_numpy().astype(object), categorize=False)
    return counts.with_columns(pl.Series(COLUMN, hashed % buckets, dtype=pl.Int32))


def files_by_bucket(kind_dir: Path) -> dict[int, list[str]]:
    """Every Parquet file under `kind_dir/period=*/bucket=*/`, grouped by bucket (sorted)."""
    grouped: dict[int, list[str]] = {}
    for path in sorted(kind_dir.glob(f"period=*/{COLUMN}=*/*.parquet")):
        grouped.setdefault(int(path.parent.name.split("=", 1)[1]), []).append(str(path))
    return grouped


def _merge_udf(batch: pa.Table, combine: Combine) -> pa.Table:
    """One bucket: its files of every period, read and combined."""
    (files,) = batch.column("files").to_pylist()
    return combine(pl.read_parquet(files, hive_partitioning=False)).to_arrow()


def merged(kind_dir: Path, combine: Combine) -> Any:
    """A dataset of every period's counts under `kind_dir`, one block per bucket, combined.

    None when no period holds a count. The tasks read the files themselves: outputs live on
    storage every node reads (as every stage's do).
    """
    import ray.data

    grouped = files_by_bucket(kind_dir)
    if not grouped:
        return None
    items = [{"files": files} for _, files in sorted(grouped.items())]
    return (ray.data.from_items(items, override_num_blocks=len(items))
            .map_batches(_merge_udf, fn_kwargs={"combine": combine}, batch_format="pyarrow",  # type: ignore[arg-type]
                         batch_size=1)
            .materialize())
