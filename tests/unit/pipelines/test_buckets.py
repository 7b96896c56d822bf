"""Buckets of stored counts: the same key lands in the same bucket in every process and every release."""

import subprocess
import sys
from pathlib import Path

import polars as pl

from pipelines.candidates import buckets
from pipelines.outputs import count_rows

KEYS = ["", "A", "B", "item-00042", "Ölkanne", "a much longer item id with spaces"]


def test_a_key_keeps_its_bucket_across_processes_and_library_releases() -> None:
    # Counts written by one run are summed with the next run's by bucket: a hash that changed
    # (a salted one, or a library whose hash moved) would split a pair's counts between
    # buckets and silently undercount it. These values were computed when the buckets were
    # introduced (pandas 3.1); a release that moves them must fail here, not in a merge.
    mine = buckets.with_bucket(pl.DataFrame({"key": KEYS}), "key", 7)[buckets.COLUMN].to_list()
    assert mine == [6, 2, 1, 5, 6, 5]
    script = ("import polars as pl; from pipelines.candidates import buckets; print(buckets.with_bucket("
              f"pl.DataFrame({{'key': {KEYS!r}}}), 'key', 7)['bucket'].to_list())")
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == str(mine)


def test_every_bucket_gets_keys_and_none_is_out_of_range() -> None:
    keys = pl.DataFrame({"key": [f"item-{i}" for i in range(10_000)]})
    sizes = buckets.with_bucket(keys, "key", 8).group_by(buckets.COLUMN).len()
    assert sorted(sizes[buckets.COLUMN].to_list()) == list(range(8))
    assert sizes["len"].min() > 10_000 / 8 * 0.8  # near-even: the merge's tasks are alike


def test_bucket_count_follows_the_events_with_one_per_cpu_at_least() -> None:
    assert buckets.bucket_count(1_000, cpus=2) == 2
    assert buckets.bucket_count(100_000_000, cpus=2) == 50
    assert buckets.bucket_count(100_000_000, cpus=64) == 64


def test_files_are_grouped_by_bucket_over_every_period(tmp_path: Path) -> None:
    for period, bucket in (("base", 0), ("base", 3), ("20260102T000000Z", 3)):
        directory = tmp_path / f"period={period}" / f"bucket={bucket}"
        directory.mkdir(parents=True)
        pl.DataFrame({"n": [1, 2]}).write_parquet(directory / "part.parquet")
    (tmp_path / "period=base" / "bucket=0" / "notes.txt").write_text("not counts")
    grouped = buckets.files_by_bucket(tmp_path)
    assert sorted(grouped) == [0, 3]
    assert [Path(f).parts[-3] for f in grouped[3]] == ["period=20260102T000000Z", "period=base"]
    assert count_rows(tmp_path) == 6  # rows are counted in the directories under a table too
