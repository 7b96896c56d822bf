"""Regrouping partitions sized to the data vs. two per CPU at least, on the candidates stage.

    python benchmarks/shuffle_sizing.py --events 10000
    python benchmarks/shuffle_sizing.py --events 1000000 --repeats 2

Ray Data's hash shuffle starts one aggregator actor per partition (up to one per CPU), each a
new worker process; candidates' exchanges through files (which replaced its hash shuffles) start
one task per bucket. kgrec sizes either by its rows (`pipelines.ray_runtime.shuffle_partitions`:
at least 50k rows a partition, up to two per CPU); the baseline is the rule it replaced, two
per CPU whatever the rows. Both run alternately on one warm Ray in one process, so start-up and
the machine's slower moments fall on both; the last line prints the ratio of their medians.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def _prepare(events: int, work: Path) -> Path:
    from pipelines.config import IngestSection, SynthSection
    from pipelines.ingest.job import run_ingest
    from pipelines.synth.job import generate

    synth = generate(SynthSection(events=events), work / "raw")
    run_ingest(IngestSection(format="parquet", events_path=str(synth.events_dir),
                             items_path=str(synth.items_path)), work / "ingest")
    return work / "ingest"


def _stage_s(ingest_dir: Path, out: Path, partitions: int | None) -> tuple[float, int]:
    """Wall time of one candidates run (None: kgrec's sizing) and the pairs it kept."""
    from pipelines.candidates.job import run_candidates
    from pipelines.config import CandidatesSection

    start = time.perf_counter()
    report = run_candidates(CandidatesSection(shuffle_partitions=partitions), ingest_dir, out)
    return time.perf_counter() - start, report.rows["pairs"]


def main() -> None:
    """Parse flags, run both sizings alternately, print the figures."""
    from pipelines.config import RaySection
    from pipelines.ray_runtime import cluster_cpus, ensure_ray, shuffle_partitions

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="Scratch dir (default: a temp dir).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kgrec-bench-"))
    try:
        ensure_ray(RaySection(progress_bars=False))
        ingest_dir = _prepare(args.events, work)
        cpus = cluster_cpus()
        sizings = {"sized to the rows": None,
                   "two per CPU at least": max(2 * cpus, math.ceil(args.events / 500_000))}
        _stage_s(ingest_dir, work / "warm-up", None)  # Ray's first tasks start its worker processes
        times: dict[str, list[float]] = {name: [] for name in sizings}
        pairs: dict[str, set[int]] = {name: set() for name in sizings}
        for _ in range(args.repeats):
            for name, partitions in sizings.items():
                wall, kept = _stage_s(ingest_dir, work / "out", partitions)
                times[name].append(wall)
                pairs[name].add(kept)
        assert pairs["sized to the rows"] == pairs["two per CPU at least"], pairs
        print(f"events: {args.events:,}   CPUs: {cpus}   event shuffle partitions: "
              f"{shuffle_partitions(args.events, cpus)} sized, {sizings['two per CPU at least']} baseline")
        medians = {name: statistics.median(walls) for name, walls in times.items()}
        for name, walls in times.items():
            print(f"{name:<22} median {medians[name]:6.2f} s   runs " + " ".join(f"{w:.2f}" for w in walls))
        ratio = medians["sized to the rows"] / medians["two per CPU at least"]
        print(f"ratio sized/baseline: {ratio:.2f}x")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
