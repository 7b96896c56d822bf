"""Candidate mining: the Ray Data plan vs. a single-process polars run of the same statistics.

    python benchmarks/candidates.py --events 1000000
    python benchmarks/candidates.py --events 10000000

Both paths read the same ingested events and write the same three tables; each runs in its
own process, so wall time includes Ray's start-up and peak memory covers the whole process
tree. The last line prints the ratio (Ray / polars).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import polars as pl
from _measure import measure  # sibling module: benchmarks/ is on sys.path when run as a script

GIB = 1024**3


def _prepare(events: int, seed: int, work: Path) -> Path:
    """Synthetic log -> ingest output (timed by the ingest stage itself, reported for context)."""
    from pipelines.config import IngestSection, RaySection, SynthSection
    from pipelines.ingest.job import run_ingest
    from pipelines.ray_runtime import ensure_ray
    from pipelines.synth.job import generate

    synth = generate(SynthSection(events=events, seed=seed), work / "raw")
    ensure_ray(RaySection(progress_bars=False))
    report = run_ingest(IngestSection(format="parquet", events_path=str(synth.events_dir),
                                      items_path=str(synth.items_path)), work / "ingest")
    print(f"ingest (Ray): {report.rows['events']:,} events in {report.wall_s:.1f} s")
    return work / "ingest"


def _ray_path(ingest_dir: Path, out: Path) -> tuple[dict[str, int], float]:
    """Rows written and the stage's own wall time (without starting Ray)."""
    from pipelines.candidates.job import run_candidates
    from pipelines.config import CandidatesSection, RaySection
    from pipelines.ray_runtime import ensure_ray

    ensure_ray(RaySection(progress_bars=False))
    report = run_candidates(CandidatesSection(), ingest_dir, out)
    return report.rows, report.wall_s


def _polars_path(ingest_dir: Path, out: Path) -> dict[str, int]:
    from pipelines.candidates.mining import mine_locally
    from pipelines.config import CandidatesSection
    from pipelines.outputs import write_table

    result = mine_locally(pl.read_parquet(ingest_dir / "events"), CandidatesSection())
    return {name: write_table(table, out / name) for name, table in (
        ("pairs", result.pairs), ("llm_queue", result.llm_queue), ("query_items", result.query_items))}


def main() -> None:
    """Parse flags, run both paths, print the side-by-side figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=None, help="Scratch dir (default: a temp dir).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kgrec-bench-"))
    try:
        _, _, ingest_dir = measure(_prepare, args.events, args.seed, work)
        ray_s, ray_peak, (ray_rows, ray_stage_s) = measure(_ray_path, ingest_dir, work / "ray")
        pl_s, pl_peak, pl_rows = measure(_polars_path, ingest_dir, work / "polars")
        assert ray_rows["pairs"] == pl_rows["pairs"], (ray_rows, pl_rows)
        print(f"events: {args.events:,}   pairs kept: {ray_rows['pairs']:,}   "
              f"llm queue: {ray_rows['llm_queue']:,}   query->item: {ray_rows['query_items']:,}")
        print(f"{'path':<22}{'wall s':>10}{'events/s':>14}{'peak RSS GiB':>15}")
        for name, wall, peak in (("ray data (kgrec)", ray_s, ray_peak), ("polars, 1 process", pl_s, pl_peak)):
            print(f"{name:<22}{wall:>10.1f}{args.events / wall:>14,.0f}{peak / GIB:>15.2f}")
        print(f"ray stage alone (after Ray start-up): {ray_stage_s:.1f} s = {ray_stage_s / pl_s:.2f}x polars")
        print(f"ratio ray/polars: wall {ray_s / pl_s:.2f}x, peak memory {ray_peak / pl_peak:.2f}x")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
