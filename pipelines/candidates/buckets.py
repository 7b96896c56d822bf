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

from pipelines.outputs import write_dataset

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


def files_by_bucket(root: Path, within: str = "period=*/") -> dict[int, list[str]]:
    """Every Parquet file under `root/<within>bucket=*/`, grouped by bucket (sorted).

    `within` is the levels above the buckets: the periods of a counts directory, none ("") in
    an exchange's scratch directory.
    """
    grouped: dict[int, list[str]] = {}
    for path in sorted(root.glob(f"{within}{COLUMN}=*/*.parquet")):
        grouped.setdefault(int(path.parent.name.split("=", 1)[1]), []).append(str(path))
    return grouped


def _bucket_udf(batch: pa.Table, key: str, buckets: int, columns: list[str] | None) -> pa.Table:
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return with_bucket(frame.select(columns) if columns else frame, key, buckets).to_arrow()


def write_bucketed(dataset: Any, key: str, buckets: int, out_dir: Path,
                   columns: list[str] | None = None) -> None:
    """Write `dataset`'s rows (`columns` of them; None: all) under `out_dir/bucket=<b>/`, b of `key`.

    Each block's task writes its own rows: nothing moves between tasks, and no actor is started.
    """
    bucketed = dataset.map_batches(_bucket_udf, fn_kwargs={"key": key, "buckets": buckets,
                                                           "columns": columns},
                                   batch_format="pyarrow", batch_size=None)
    write_dataset(bucketed, out_dir, partition_by=COLUMN, min_rows_per_file=ROWS_PER_FILE)


def _merge_udf(batch: pa.Table, combine: Combine) -> pa.Table:
    """One bucket: its files, read and combined."""
    (files,) = batch.column("files").to_pylist()
    return combine(pl.read_parquet(files, hive_partitioning=False)).to_arrow()


def merged(root: Path, combine: Combine, within: str = "period=*/") -> Any:
    """A dataset of the files under `root/<within>bucket=*/`, one block per bucket, combined.

    None when no file is there. The tasks read the files themselves: outputs live on storage
    every node reads (as every stage's do).
    """
    import ray.data

    grouped = files_by_bucket(root, within)
    if not grouped:
        return None
    items = [{"files": files} for _, files in sorted(grouped.items())]
    return (ray.data.from_items(items, override_num_blocks=len(items))
            .map_batches(_merge_udf, fn_kwargs={"combine": combine}, batch_format="pyarrow",  # type: ignore[arg-type]
                         batch_size=1)
            .materialize())


def exchanged(dataset: Any, key: str, buckets: int, scratch: Path, combine: Combine) -> Any:
    """`dataset`'s rows regrouped so that one block holds every row of its bucket of `key`, combined.

    What a keyed hash shuffle does, through Parquet files under `scratch` instead of Ray Data's
    aggregator actors: each block's task writes its rows into their buckets, then one task per
    bucket reads and combines them. On small inputs the actors' start-up was most of a
    shuffle's cost (seconds each, whatever the rows); tasks also survive a lost node, where
    Ray Data does not restart an aggregator. None when `dataset` has no rows. The caller
    removes `scratch` once the result is materialized (it is, on return).
    """
    write_bucketed(dataset, key, buckets, scratch)
    return merged(scratch, combine, within="")
