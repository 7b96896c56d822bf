"""How kgrec's cost grows with the log: generate, ingest and mine N events and N/10 in one run.

    python benchmarks/scale.py --events 100000000 --work /big/disk/kgrec-scale

For each size, each stage runs in its own process with its own local Ray (as `kgrec data synth`,
`kgrec ingest` and `kgrec candidates` would), the object store capped at `--object-store-mb` so
that a large run must spill instead of growing; the table gives per stage its wall time, the peak
of the process tree's summed PSS (shared pages, Ray's object store included, counted once: what
the tree holds; summed RSS would count the object store once per process that maps it), and
what the object store spilled. The last lines compare the large run with the reference
(N/10): wall time ratio per stage (linear: <= 11x) and the peak memory against the 8 GiB target.
The work directory is emptied per size and removed at the end (unless `--keep`).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _measure import measure  # sibling module: benchmarks/ is on sys.path when run as a script

GIB = 1024**3
TARGET_PEAK = 8 * GIB
TARGET_GROWTH = 11.0  # wall time at 10x the events: linear, with a tenth of slack
STAGES = ("synth", "ingest", "candidates")


@dataclass
class StageFigures:
    """One stage at one size."""

    wall_s: float
    peak_pss: int
    spilled_bytes: int
    rows: dict[str, int]


def _ray(object_store_mb: int) -> Any:
    from pipelines.config import RaySection

    return RaySection(progress_bars=False, object_store_memory_mb=object_store_mb)


def _synth(events: int, work: Path, object_store_mb: int) -> tuple[dict[str, int], int]:
    from pipelines.config import SynthSection
    from pipelines.synth.job import generate

    output = generate(SynthSection(events=events, seed=11), work / "raw")
    return {"events": events, "event_files": len(list(output.events_dir.glob("*.parquet")))}, 0


def _ingest(events: int, work: Path, object_store_mb: int) -> tuple[dict[str, int], int]:
    from pipelines.config import IngestSection
    from pipelines.ingest.job import run_ingest
    from pipelines.ray_runtime import ensure_ray, spill_count

    ensure_ray(_ray(object_store_mb))
    with spill_count() as spilled:
        report = run_ingest(IngestSection(format="parquet", events_path=str(work / "raw" / "events"),
                                          items_path=str(work / "raw" / "items.parquet")), work / "ingest")
    shutil.rmtree(work / "raw")  # read once; the disk holds one copy of the log at a time
    return {"events": report.rows["events"]}, spilled.spilled_bytes


def _candidates(events: int, work: Path, object_store_mb: int) -> tuple[dict[str, int], int]:
    from pipelines.candidates.job import run_candidates
    from pipelines.config import CandidatesSection
    from pipelines.ray_runtime import ensure_ray

    ensure_ray(_ray(object_store_mb))
    report = run_candidates(CandidatesSection(), work / "ingest", work / "candidates")
    return dict(report.rows), int(report.details["object_store_spilled_bytes"])


def _run_size(events: int, work: Path, object_store_mb: int) -> dict[str, StageFigures]:
    """Every stage at one size, each in its own measured process."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    figures = {}
    for name, stage in (("synth", _synth), ("ingest", _ingest), ("candidates", _candidates)):
        wall, pss, (rows, spilled) = measure(stage, events, work, object_store_mb, proportional=True)
        figures[name] = StageFigures(wall, pss, spilled, rows)
        print(f"  {events:>12,} {name:<11} {wall:>8.1f} s  peak PSS {pss / GIB:6.2f} GiB  "
              f"spilled {spilled / GIB:6.2f} GiB  rows {rows}", flush=True)
    return figures


def _table(sizes: dict[int, dict[str, StageFigures]]) -> None:
    print(f"{'events':>12} {'stage':<11}{'wall s':>9}{'events/s':>12}{'peak PSS GiB':>14}{'spilled GiB':>13}")
    for events, figures in sizes.items():
        for name in STAGES:
            f = figures[name]
            print(f"{events:>12,} {name:<11}{f.wall_s:>9.1f}{events / f.wall_s:>12,.0f}"
                  f"{f.peak_pss / GIB:>14.2f}{f.spilled_bytes / GIB:>13.2f}")


def _compare(large: int, small: int, sizes: dict[int, dict[str, StageFigures]]) -> None:
    factor = large / small
    print(f"growth from {small:,} to {large:,} events ({factor:.0f}x; linear target <= "
          f"{TARGET_GROWTH * factor / 10:.1f}x):")
    for name in STAGES:
        grown = sizes[large][name].wall_s / sizes[small][name].wall_s
        print(f"  {name:<11} wall {grown:6.2f}x")
    total = sum(f.wall_s for f in sizes[large].values()) / sum(f.wall_s for f in sizes[small].values())
    peak = max(f.peak_pss for f in sizes[large].values())
    print(f"  all stages  wall {total:6.2f}x")
    print(f"peak PSS at {large:,}: {peak / GIB:.2f} GiB = {peak / TARGET_PEAK:.2f}x the 8 GiB target")


def main() -> None:
    """Parse flags, run the reference size then the large one, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--reference", type=int, default=None, help="Smaller size (default: events/10).")
    parser.add_argument("--object-store-mb", type=int, default=2048)
    parser.add_argument("--work", type=Path, default=None, help="Scratch dir with room (default: temp).")
    parser.add_argument("--keep", action="store_true", help="Keep the outputs of the last size.")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kgrec-scale-"))
    small = args.reference or args.events // 10
    sizes: dict[int, dict[str, StageFigures]] = {}
    try:
        for events in (small, args.events):
            sizes[events] = _run_size(events, work, args.object_store_mb)
        _table(sizes)
        _compare(args.events, small, sizes)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
