"""LLM extraction with the local CPU backend: throughput, failures, pre-filter savings, cache.

    python benchmarks/extract.py                       # Online Retail (../shared/data), 60 pairs, 20 items
    python benchmarks/extract.py --dataset synth --pairs 40 --items 10

Runs ingest and candidate mining, then the extract stage twice over the same candidates with a
fresh answer cache: the first run asks the local model (llama.cpp serving SmolLM2-135M), the
second is all cache hits. Prints prompts/s and output tokens/s of the first run, its failure
rate and the LLM calls the title pre-filter saved, the second run's wall time as a ratio of the
first, and (Online Retail) the distribution of extracted relations with a sample per type.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _prepare(dataset: str, work: Path, pairs: int) -> None:
    from pipelines.candidates.job import run_candidates
    from pipelines.config import CandidatesSection, IngestSection, SynthSection
    from pipelines.ingest.job import run_ingest
    from pipelines.synth.job import generate

    if dataset == "online-retail":
        source = SHARED / "online_retail" / "online_retail.parquet"
        if not source.exists():
            raise SystemExit(f"{source} is absent: use --dataset synth")
        ingest = IngestSection(format="online-retail", events_path=str(source),
                               source_timezone="Europe/London")
        candidates = CandidatesSection(llm_budget=pairs)
    else:
        synth = generate(SynthSection(events=100_000), work / "raw")
        ingest = IngestSection(format="parquet", events_path=str(synth.events_dir),
                               items_path=str(synth.items_path))
        candidates = CandidatesSection(llm_budget=pairs)
    run_ingest(ingest, work / "ingest")
    run_candidates(candidates, work / "ingest", work / "candidates")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["online-retail", "synth"], default="online-retail")
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args()

    from pipelines.config import RaySection
    from pipelines.extract.config import ExtractSection
    from pipelines.extract.inspect import relation_sample
    from pipelines.extract.job import run_extract
    from pipelines.ray_runtime import ensure_ray

    with tempfile.TemporaryDirectory(prefix="kgrec-bench-extract-") as tmp:
        work = Path(tmp)
        ensure_ray(RaySection(progress_bars=False))
        _prepare(args.dataset, work, args.pairs)
        settings = ExtractSection(max_pairs=args.pairs, max_items=args.items, cache_dir=str(work / "cache"))
        first = run_extract(settings, work / "ingest", work / "candidates", work / "x1", "bench1")
        second = run_extract(settings, work / "ingest", work / "candidates", work / "x2", "bench2")
        d, again = first.details, second.details
        asked = int(d["asked_llm"])
        print(f"\ndataset {args.dataset}: {d['questions']} questions ({d['queued_pairs']} pairs, "
              f"{args.items} items x 2 questions), model {d['model']}")
        print(f"first run:  {asked} asked in {first.wall_s:.1f} s -> {asked / first.wall_s:.2f} prompts/s, "
              f"{d['completion_tokens_per_s']} output tokens/s "
              f"({d['prompt_tokens']:,} prompt + {d['completion_tokens']:,} completion tokens, "
              f"{d['requests']} requests)")
        failure_rate = 100 * int(d["failures"]) / max(asked, 1)
        print(f"failures:   {d['failures']} of {asked} asked ({failure_rate:.1f}%) {first.bad_rows or ''}")
        print(f"pre-filter: {d['prefilter_hits']} of {d['queued_pairs']} pairs answered without the LLM "
              f"({100 * int(d['prefilter_hits']) / max(int(d['queued_pairs']), 1):.0f}% of pair calls saved)")
        print(f"second run: {again['asked_llm']} asked, {again['cache_hits']} cache hits, "
              f"{second.wall_s:.1f} s")
        if args.dataset == "online-retail":
            distribution, sample = relation_sample(work / "x1", work / "ingest", per_type=4)
            print("\nrelations by type:", dict(distribution.iter_rows()))
            with __import__("polars").Config(tbl_rows=60, fmt_str_lengths=45, tbl_width_chars=200):
                print(sample)
        print(f"\ncache re-run vs first run (wall): {second.wall_s:.1f} s / {first.wall_s:.1f} s = "
              f"{second.wall_s / first.wall_s:.3f}x  ({first.wall_s / second.wall_s:.1f}x faster)")


if __name__ == "__main__":
    main()
