"""Candidate mining with Ray's object store capped so that it must spill, beside an uncapped run.

    python benchmarks/candidates_spill.py --events 10000000 --object-store-mb 256 --work /tmp/spill

Both runs mine the same ingested events in their own process (their own local Ray): one with
the object store capped at --object-store-mb, one with Ray's default store (30% of memory). The
stage report of each says what Ray spilled to disk while it ran (`object_store_spilled_bytes`,
the figure `runs/<id>/report.md` prints under "Object spilling"); the rows must be identical.
The last line prints the capped run's wall time as a ratio of the uncapped one.
With --work, the synthetic log and its ingest are kept and reused by a later run.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

from _measure import measure  # sibling module: benchmarks/ is on sys.path when run as a script

GIB, MIB = 1024**3, 1024**2


def _prepare(events: int, seed: int, work: Path) -> Path:
    """Synthetic log -> ingest output, unless --work already holds a finished one."""
    from pipelines.config import IngestSection, RaySection, SynthSection
    from pipelines.ingest.job import run_ingest
    from pipelines.outputs import MARKER, count_rows
    from pipelines.ray_runtime import ensure_ray
    from pipelines.synth.job import generate

    ingest = work / "ingest"
    if (ingest / MARKER).exists() and count_rows(ingest / "events") == events:
        print(f"ingest: reusing {ingest} ({events:,} events)")
        return ingest
    synth = generate(SynthSection(events=events, seed=seed), work / "raw")
    ensure_ray(RaySection(progress_bars=False))
    report = run_ingest(IngestSection(format="parquet", events_path=str(synth.events_dir),
                                      items_path=str(synth.items_path)), ingest)
    print(f"ingest (Ray): {report.rows['events']:,} events in {report.wall_s:.1f} s")
    return ingest


def _mine(ingest_dir: Path, out: Path, object_store_mb: int | None) -> dict[str, Any]:
    """The candidates stage on a fresh local Ray; its rows and details (spilled bytes among them)."""
    from pipelines.candidates.job import run_candidates
    from pipelines.config import CandidatesSection, RaySection
    from pipelines.ray_runtime import ensure_ray

    ensure_ray(RaySection(progress_bars=False, object_store_memory_mb=object_store_mb))
    report = run_candidates(CandidatesSection(), ingest_dir, out)
    return {"rows": report.rows, "stage_s": report.wall_s, **report.details}


def main() -> None:
    """Parse flags, run both, print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--object-store-mb", type=int, default=256)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=None, help="Scratch dir, kept (default: a temp dir).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kgrec-spill-"))
    try:
        _, _, ingest_dir = measure(_prepare, args.events, args.seed, work)
        runs = {}
        caps = ((f"capped {args.object_store_mb} MiB", args.object_store_mb), ("Ray's default", None))
        for name, cap in caps:
            wall, peak, result = measure(_mine, ingest_dir, work / f"candidates-{cap or 'default'}", cap)
            runs[name] = (wall, peak, result)
        (capped, _, capped_result), (default, _, default_result) = runs.values()
        assert capped_result["rows"] == default_result["rows"], (capped_result, default_result)
        print(f"events: {args.events:,}   rows: {capped_result['rows']}")
        print(f"{'object store':<22}{'wall s':>9}{'stage s':>9}{'spilled MiB':>13}{'restored MiB':>14}"
              f"{'peak RSS GiB':>14}")
        for name, (wall, peak, result) in runs.items():
            print(f"{name:<22}{wall:>9.1f}{result['stage_s']:>9.1f}"
                  f"{result['object_store_spilled_bytes'] / MIB:>13,.0f}"
                  f"{result['object_store_restored_bytes'] / MIB:>14,.0f}{peak / GIB:>14.2f}")
        print(f"ratio capped/default: wall {capped / default:.2f}x, "
              f"stage {capped_result['stage_s'] / default_result['stage_s']:.2f}x")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
