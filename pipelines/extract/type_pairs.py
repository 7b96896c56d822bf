"""Type-pair questions: the mined item pairs aggregated to product-type pairs (LLM-KERec).

One question about (tent, tent stakes) covers every tent with every pack of stakes, including pairs
that never shared a basket, so the LLM's work grows with the product types, not the catalog. Types
come from `pipelines.refine.product_types` (category, then title; IS_A is known only after this
stage, so refine re-types the items it leaves untyped). A pair of types is asked about when its
items were mined together; pairs within one type (variants and substitutes) are not type questions.
Type pairs are ranked by the baskets their item pairs share, summed, and the best
`extract.max_type_pairs` are asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from kg.schema import LlmTask
from pipelines.extract.prompts import PROMPTS, cache_key, canonical_json
from pipelines.refine.config import ProductTypeRules
from pipelines.refine.product_types import assign_types
from pipelines.refine.titles import TitleModel

EXAMPLES_PER_TYPE = 3
_UTC = pl.Datetime("us", "UTC")
TYPE_PAIR_SCHEMA = pl.Schema([
    ("type_a", pl.String()), ("type_b", pl.String()), ("item_pairs", pl.UInt32()), ("n_ab", pl.Int64()),
    ("lift", pl.Float64()), ("first_seen", _UTC), ("last_seen", _UTC)])


def catalog_types(ingest_dir: Path, model: TitleModel, rules: ProductTypeRules) -> pl.DataFrame:
    """Every catalog item's product type from its category and title (`TYPE_SCHEMA`), with its title."""
    items = pl.read_parquet(ingest_dir / "items", columns=["item_id", "title", "category"])
    return assign_types(items, model, rules).join(items.select("item_id", "title"), on="item_id", how="left")


def mined_type_pairs(candidates_dir: Path, types: pl.DataFrame) -> pl.DataFrame:
    """The mined item pairs grouped by their (unordered) pair of distinct types, most baskets first.

    `item_pairs` counts the mined pairs, `n_ab` sums their baskets, `lift` is their best lift.
    Streams the pairs table: its size is the mined pairs', one row per type pair comes out.
    """
    typed = types.lazy().select("item_id", "type_id")
    pairs = (pl.scan_parquet(str(candidates_dir / "pairs" / "*.parquet"))
             .select("item_a", "item_b", "n_ab", "lift", "first_seen", "last_seen")
             .join(typed.rename({"item_id": "item_a", "type_id": "ta"}), on="item_a")
             .join(typed.rename({"item_id": "item_b", "type_id": "tb"}), on="item_b")
             .filter(pl.col("ta") != pl.col("tb")))
    grouped = (pairs.group_by(pl.min_horizontal("ta", "tb").alias("type_a"),
                              pl.max_horizontal("ta", "tb").alias("type_b"))
               .agg(pl.len().alias("item_pairs"), pl.col("n_ab").sum().cast(pl.Int64), pl.col("lift").max(),
                    pl.col("first_seen").min(), pl.col("last_seen").max())
               .sort(["n_ab", "type_a", "type_b"], descending=[True, False, False]))
    return grouped.collect(engine="streaming").cast(TYPE_PAIR_SCHEMA)


def type_pair_tasks(type_pairs: pl.DataFrame, types: pl.DataFrame, model: str, budget: int | None
                    ) -> list[dict[str, Any]]:
    """One question per type pair, best first, up to `budget`: both types named, with example titles."""
    examples = (types.filter(pl.col("title").is_not_null()).sort("item_id")
                .group_by("type_id", maintain_order=True)
                .agg(pl.col("type_text").first(), pl.col("title").unique(maintain_order=True)
                     .head(EXAMPLES_PER_TYPE)))
    shown = {row["type_id"]: {"type": row["type_text"], "examples": row["title"]}
             for row in examples.iter_rows(named=True)}
    version = PROMPTS[LlmTask.TYPE_PAIR].version
    tasks = []
    for pair in type_pairs.head(budget if budget is not None else type_pairs.height).iter_rows(named=True):
        input_json = canonical_json({"a": shown[pair["type_a"]], "b": shown[pair["type_b"]]})
        tasks.append({"key": cache_key(model, version, input_json), "task": LlmTask.TYPE_PAIR.value,
                      "item_a": pair["type_a"], "item_b": pair["type_b"], "input_json": input_json,
                      "model": model, "prompt_version": version, "n_ab": pair["n_ab"], "lift": pair["lift"],
                      "first_seen": pair["first_seen"], "last_seen": pair["last_seen"]})
    return tasks
