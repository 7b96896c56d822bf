"""Temporal link prediction: kgrec's TGN with knowledge vs. PyG's TGN example, same data, same run.

    python benchmarks/tgn_train.py --dataset jodie-wikipedia
    python benchmarks/tgn_train.py --dataset online-retail --max-events 30000 --seeds 0 1 2 \
        --knowledge features messages both none
    python benchmarks/tgn_train.py --dataset instacart --seeds 0 1 2 --knowledge both none

The events are split chronologically (70/15/15). The knowledge graph is mined from the
*training* events only (co-occurrence pairs, as `kgrec candidates` does) and written as a
graph snapshot, so validation and test see no knowledge from their own future. Each model
trains in its own child process (peak RSS of that process tree; wall time of training).
Prints each model's training throughput (events/s), peak memory and test AP/AUC/MRR
(MRR against `eval_negatives` sampled items, TGB-style); the ratios come last. Both models use
PyG's example settings (batch 200, lr 1e-4, dim 100, 10 neighbours).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from _measure import measure  # sibling module: benchmarks/ is on sys.path when run as a script

from gnn.config import GnnSection

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MIB = 1024**2


def _wikipedia(max_events: int | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """JODIE Wikipedia (u, i, ts seconds) -> canonical events; pages have no text."""
    raw = pl.read_csv(SHARED / "jodie_wikipedia" / "wikipedia_uitl.csv")
    if max_events:
        raw = raw.head(max_events)
    events = raw.select(
        pl.format("u{}", pl.col("u")).alias("user_id"), pl.format("p{}", pl.col("i")).alias("item_id"),
        pl.lit("view").alias("event_type"),
        pl.from_epoch((pl.col("ts") * 1000).cast(pl.Int64), "ms").dt.replace_time_zone("UTC").alias("ts"),
        pl.format("u{}-{}", pl.col("u"), (pl.col("ts") // 86400)).alias("session_id"),
        pl.lit(None, pl.String).alias("query"))
    items = events.select(pl.col("item_id").alias("id")).unique().sort("id").with_columns(
        pl.lit(None, pl.String).alias("title"), pl.lit(None, pl.String).alias("category"),
        pl.lit(None, pl.String).alias("brand"))
    return events, items


def _online_retail(max_events: int | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """UCI Online Retail through kgrec's own adapter; the latest `max_events` purchases."""
    from pipelines.config import IngestSection
    from pipelines.ingest.online_retail import stage_events, stage_items
    from pipelines.ingest.staging import ROW_COLUMN

    raw = pl.read_parquet(SHARED / "online_retail" / "online_retail.parquet").with_row_index(ROW_COLUMN)
    settings = IngestSection(format="online-retail")
    staged = pl.from_arrow(stage_events(raw, "bench", settings))
    assert isinstance(staged, pl.DataFrame)
    events = staged.filter(pl.col("_reason").is_null()).select(
        "user_id", "item_id", "event_type", "ts", "session_id", "query").sort("ts", maintain_order=True)
    if max_events:
        events = events.tail(max_events)
    items_raw = pl.from_arrow(stage_items(raw, "bench", settings))
    assert isinstance(items_raw, pl.DataFrame)
    items = items_raw.group_by("item_id").agg(pl.col("title").mode().sort().first()).sort("item_id").select(
        pl.col("item_id").alias("id"), "title", pl.lit(None, pl.String).alias("category"),
        pl.lit(None, pl.String).alias("brand"))
    return events, items


def _instacart(max_events: int | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The Instacart sample through kgrec's own adapter; the products its latest `max_events` lines name."""
    from pipelines.config import IngestSection
    from pipelines.ingest import instacart
    from pipelines.ingest.sources import list_files
    from pipelines.ingest.tableset import split_locally, stage_locally

    staged = stage_locally(instacart.TABLE_SET, list_files(str(SHARED / "instacart_sample")),
                           IngestSection().rows_per_batch)
    events, products, _ = split_locally(staged)
    events = events.sort("ts", maintain_order=True)
    if max_events:
        events = events.tail(max_events)
    items = products.join(events.select("item_id").unique(), on="item_id").sort("item_id").select(
        pl.col("item_id").alias("id"), "title", "category", "brand")
    return events, items


LOADERS = {"jodie-wikipedia": _wikipedia, "online-retail": _online_retail, "instacart": _instacart}


def _write_inputs(dataset: str, max_events: int | None, work: Path) -> dict[str, Any]:
    """Events under work/ingest/events, a snapshot mined from the training share under work/snapshot."""
    import pyarrow.parquet as pq

    from kg.schema import RelationType, relation_id
    from kg.snapshot import CONCEPT_SCHEMA, ITEM_SCHEMA, RELATION_SCHEMA
    from pipelines.candidates.mining import mine_locally
    from pipelines.config import CandidatesSection

    events, items = LOADERS[dataset](max_events)
    (work / "ingest" / "events").mkdir(parents=True)
    events.write_parquet(work / "ingest" / "events" / "part-0.parquet")
    config = GnnSection()
    train = events.head(int(events.height * (1 - config.val_ratio - config.test_ratio)))
    pairs = pl.from_arrow(mine_locally(train, CandidatesSection(llm_budget=0)).pairs)
    assert isinstance(pairs, pl.DataFrame)
    relations = pairs.select(
        pl.Series("id", [relation_id(a, RelationType.CO_PURCHASED, b)
                         for a, b in zip(pairs["item_a"], pairs["item_b"], strict=True)], pl.String),
        pl.lit("CO_PURCHASED").alias("type"), pl.col("item_a").alias("head"), pl.col("item_b").alias("tail"),
        pl.lit("proposed").alias("status"), pl.col("npmi").clip(0.0, 1.0).alias("confidence"),
        pl.col("n_ab").alias("support"), "lift", "first_seen", "last_seen",
        pl.lit("cooccurrence").alias("model"), pl.lit(None, pl.Float64).alias("critic_score"),
        pl.lit(None, pl.String).alias("decided_by"), pl.lit(None, pl.String).alias("proposed_type"))
    snapshot = work / "snapshot"
    snapshot.mkdir()
    pq.write_table(relations.to_arrow().cast(RELATION_SCHEMA), snapshot / "relations.parquet")
    pq.write_table(items.to_arrow().cast(ITEM_SCHEMA), snapshot / "items.parquet")
    pq.write_table(CONCEPT_SCHEMA.empty_table(), snapshot / "concepts.parquet")
    (snapshot / "manifest.json").write_text(json.dumps({"as_of": datetime.now(UTC).isoformat()}))
    return {"events": events.height, "users": events["user_id"].n_unique(), "items": items.height,
            "relations": relations.height}


def _train(work: Path, name: str, baseline: bool, overrides: dict[str, Any]) -> dict[str, Any]:
    import logging

    from gnn.train import train

    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {name} %(message)s")
    result = train(GnnSection(**overrides), work / "ingest", work / "snapshot", work / name, baseline)
    return result.model_dump(mode="json")


def main() -> None:
    """Parse flags, prepare the data, train both models, print the side-by-side figures."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(LOADERS), required=True)
    parser.add_argument("--max-events", type=int, default=None, help="Latest N events (default: all).")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--knowledge", choices=["features", "messages", "both", "none"], nargs="+",
                        default=None, help="Our model's knowledge mode(s), one run each (default: the "
                        "config's); ratios compare the first with the baseline.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="Train every arm once per seed; figures are mean (and spread) over them.")
    parser.add_argument("--work", type=Path, default=None, help="Scratch dir (default: a temp dir).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kgrec-tgn-"))
    _, _, sizes = measure(_write_inputs, args.dataset, args.max_events, work)
    print(f"{args.dataset}: {sizes['events']:,} events, {sizes['users']:,} users, {sizes['items']:,} items, "
          f"{sizes['relations']:,} mined relations (training share only)")
    overrides: dict[str, Any] = {"epochs": args.epochs, "threads": args.threads, "batch_size": 200,
                                 "max_events": None,
                                 "text_cache_dir": work / "text_cache"}
    arms = [("baseline", True, {})] + [(f"ours-{mode}", False, {"knowledge": mode})
                                       for mode in args.knowledge or [GnnSection().knowledge]]
    runs: dict[str, list[tuple[int, dict[str, Any]]]] = {name: [] for name, _, _ in arms}
    for seed in args.seeds:  # seeds outermost: load drift on a shared machine hits every arm alike
        for name, baseline, extra in arms:
            _, peak, result = measure(_train, work, f"{name}-seed{seed}", baseline,
                                      {**overrides, **extra, "seed": seed})
            runs[name].append((peak, result))
    print(f"seeds: {args.seeds}; mean (± std over seeds when more than one)")
    flagged = sorted({op for seeded in runs.values() for _, r in seeded
                      for op in r.get("nondeterministic_ops", [])})
    print(f"NOT deterministic per seed: {'; '.join(flagged)}" if flagged else
          f"deterministic per seed at {args.threads} thread(s): torch.use_deterministic_algorithms, "
          "no op warned")
    print(f"{'model':<34}{'events/s':>10}{'peak MiB':>10}{'test AP':>16}{'test AUC':>16}{'test MRR':>16}")
    figures = {name: _summary(seeded) for name, seeded in runs.items()}
    for name, f in figures.items():
        label = f"{runs[name][0][1]['model_name']} ({name})"
        print(f"{label:<34}{f['events_per_s'][0]:>10,.0f}{f['peak'][0] / MIB:>10,.0f}"
              + "".join(f"{f[k][0]:>9.4f} ±{f[k][1]:.3f}" for k in ("ap", "auc", "mrr")))
    base, ours = figures["baseline"], figures[arms[1][0]]
    print(f"ratio ours/baseline: throughput {ours['events_per_s'][0] / base['events_per_s'][0]:.2f}x, "
          f"peak memory {ours['peak'][0] / base['peak'][0]:.2f}x, "
          f"test AP {ours['ap'][0] / base['ap'][0]:.3f}x, test MRR {ours['mrr'][0] / base['mrr'][0]:.3f}x")


def _summary(seeded: list[tuple[int, dict[str, Any]]]) -> dict[str, tuple[float, float]]:
    """(mean, std) over seeds of throughput, peak memory and test AP/AUC/MRR."""
    columns = {"events_per_s": [r["train_events_per_s"] for _, r in seeded], "peak": [p for p, _ in seeded]}
    for key in ("ap", "auc", "mrr"):
        columns[key] = [r["metrics"]["test"][key] for _, r in seeded]
    return {key: (float(np.mean(values)), float(np.std(values))) for key, values in columns.items()}


if __name__ == "__main__":
    main()
