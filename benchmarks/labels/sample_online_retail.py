"""Draw the Online Retail item pairs labelled in online_retail_pairs.csv (stratified by lift rank).

    kgrec ingest -c infra/configs/online_retail.yaml --format online-retail \
        --events ../shared/data/online_retail/online_retail.parquet --out /tmp/or/ingest
    kgrec candidates -c infra/configs/online_retail.yaml --in /tmp/or/ingest --out /tmp/or/candidates
    python benchmarks/labels/sample_online_retail.py --candidates /tmp/or/candidates --ingest /tmp/or/ingest

Mined pairs are sorted by lift descending (ties by item_a, then item_b). One generator,
numpy.random.default_rng(20261201), then draws without replacement, in this order:
100 pairs from the first 10% of ranks (`top`), 100 from ranks 45%-55% (`middle`), 100 from the
last 10% (`tail`). `queue` is the first 60 pairs of the LLM queue by llm_rank that were not
already drawn. The sample is printed as tab-separated rows with both titles and prices, for a
person to label; nothing from the data is written anywhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl

SEED = 20261201
STRATA = (("top", 0.00, 0.10, 100), ("middle", 0.45, 0.55, 100), ("tail", 0.90, 1.00, 100))
QUEUE_SIZE = 60


def sample(pairs: pl.DataFrame, queue: pl.DataFrame) -> pl.DataFrame:
    """The drawn pairs: item_a, item_b, stratum, lift_rank (0-based; null for pairs not ranked)."""
    ranked = pairs.sort(["lift", "item_a", "item_b"], descending=[True, False, False]).with_row_index(
        "lift_rank")
    n = ranked.height
    rng = np.random.default_rng(SEED)
    parts = []
    for name, lo, hi, size in STRATA:
        start, stop = int(lo * n), int(hi * n)
        picked = np.sort(rng.choice(np.arange(start, stop), size=size, replace=False))
        parts.append(ranked[picked.tolist()].select("item_a", "item_b", "lift_rank")
                     .with_columns(pl.lit(name).alias("stratum")))
    drawn = pl.concat(parts)
    taken = set(zip(drawn["item_a"], drawn["item_b"], strict=True))
    rest = [(a, b) for a, b in queue.sort("llm_rank").select("item_a", "item_b").iter_rows()
            if (a, b) not in taken][:QUEUE_SIZE]
    from_queue = (pl.DataFrame(rest, schema=["item_a", "item_b"], orient="row")
                  .join(ranked.select("item_a", "item_b", "lift_rank"), on=["item_a", "item_b"], how="left",
                        maintain_order="left")
                  .with_columns(pl.lit("queue").alias("stratum")))
    return pl.concat([drawn, from_queue.select(drawn.columns)])


def main() -> None:
    """Parse flags, draw the sample, print it with titles for labelling."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=Path, required=True, help="kgrec candidates output dir.")
    parser.add_argument("--ingest", type=Path, required=True, help="kgrec ingest output dir.")
    args = parser.parse_args()
    pairs = pl.read_parquet(args.candidates / "pairs")
    queue = pl.read_parquet(args.candidates / "llm_queue")
    items = pl.read_parquet(args.ingest / "items").select("item_id", "title", "price")
    drawn = sample(pairs, queue).join(pairs.select("item_a", "item_b", "n_ab", "lift"),
                                      on=["item_a", "item_b"], how="left", maintain_order="left")
    for side in ("a", "b"):
        drawn = drawn.join(items.rename({"item_id": f"item_{side}", "title": f"title_{side}",
                                         "price": f"price_{side}"}),
                           on=f"item_{side}", how="left", maintain_order="left")
    print(f"# {pairs.height} mined pairs, {drawn.height} drawn", file=sys.stderr)
    drawn.select("item_a", "item_b", "stratum", "lift_rank", "n_ab", "lift", "title_a", "title_b",
                 "price_a", "price_b").write_csv(sys.stdout, separator="\t", float_precision=3)


if __name__ == "__main__":
    main()
