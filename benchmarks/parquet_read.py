"""Ray Data's two Parquet read paths on one small file: why `ray.parquet_datasource_v2` is off.

    python benchmarks/parquet_read.py --rows 10000 --reads 10

A stage reads Parquet several times (events for pairs, events for queries, the answers, ...), so
a fixed cost per read is paid several times per stage. Both paths read the same synthetic
file in one local Ray cluster, alternating, after one warm-up read each; the last line prints
the median wall time per read of each and the ratio (V2 / V1).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _read_s(path: Path, datasource_v2: bool) -> float:
    import ray.data

    ray.data.DataContext.get_current().use_datasource_v2 = datasource_v2
    started = time.perf_counter()
    rows = ray.data.read_parquet(str(path)).materialize().count()
    elapsed = time.perf_counter() - started
    assert rows > 0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=10, help="Timed reads per path.")
    args = parser.parse_args()

    from pipelines.config import RaySection
    from pipelines.ray_runtime import ensure_ray

    ensure_ray(RaySection(progress_bars=False))
    with tempfile.TemporaryDirectory(prefix="kgrec-bench-") as work:
        path = Path(work) / "events"
        path.mkdir()
        pq.write_table(pa.table({"user_id": [f"u{i % 997}" for i in range(args.rows)],
                                 "item_id": [f"i{i % 4999}" for i in range(args.rows)],
                                 "ts": list(range(args.rows))}), path / "part-0.parquet")
        times: dict[bool, list[float]] = {True: [], False: []}
        for v2 in times:
            _read_s(path, v2)  # warm-up: worker processes, imports
        for _ in range(args.reads):
            for v2 in times:
                times[v2].append(_read_s(path, v2))
    v1, v2 = statistics.median(times[False]), statistics.median(times[True])
    print(f"{args.rows:,} rows, {args.reads} reads per path, median wall per read:")
    print(f"  V1 reader (kgrec's default): {v1:.3f} s")
    print(f"  DataSourceV2 (Ray's default): {v2:.3f} s")
    print(f"ratio V2/V1: {v2 / v1:.1f}x")


if __name__ == "__main__":
    main()
