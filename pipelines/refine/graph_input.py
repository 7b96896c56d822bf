"""The catalog and behavioural half of the graph input: `items/` and CO_PURCHASED `relations/`.

`kgrec refine` (`pipelines.refine.job`) writes these first, then the knowledge it decided
beside them, in the layout `kgrec graph load` reads (`kg.load`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from kg.arrow_schema import conform
from kg.schema import Relation, RelationType, relation_id
from pipelines.outputs import count_rows

BEHAVIOUR_MODEL = "cooccurrence"


def _evidence_id(pairs: pl.DataFrame) -> str:
    """A content hash of the mined pairs: mining the same data again yields the same id."""
    columns = pairs.select("item_a", "item_b", "n_ab", "first_seen", "last_seen").sort("item_a", "item_b")
    return "pairs:" + hashlib.sha256(columns.write_csv().encode()).hexdigest()[:24]


def write_behaviour(ingest_dir: Path, candidates_dir: Path, run_id: str, out_dir: Path) -> dict[str, int]:
    """Items and behavioural CO_PURCHASED relations (`relations/part-00000.parquet`) into `out_dir`.

    Behavioural confidence is the pair's NPMI clipped to [0, 1]; support is its basket count.
    The evidence id is a content hash of the pairs, so re-running on the same data adds no
    support twice, while a run over new data does.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "items").mkdir(exist_ok=True)
    (out_dir / "relations").mkdir(exist_ok=True)
    items = pl.scan_parquet(str(ingest_dir / "items" / "*.parquet")).select(
        "item_id", "title", "category", "brand", "price")
    items.sink_parquet(out_dir / "items" / "part-00000.parquet")
    pairs = pl.read_parquet(candidates_dir / "pairs")
    ids = [relation_id(a, RelationType.CO_PURCHASED, b)
           for a, b in zip(pairs["item_a"], pairs["item_b"], strict=True)]
    relations = pairs.select(
        pl.Series("id", ids, dtype=pl.String),
        pl.col("item_a").alias("head"),
        pl.lit(RelationType.CO_PURCHASED.value).alias("type"),
        pl.col("item_b").alias("tail"),
        pl.lit(None, pl.String).alias("tail_text"),
        pl.col("npmi").clip(0.0, 1.0).alias("confidence"),
        pl.col("n_ab").alias("support"),
        pl.col("lift"),
        pl.col("confidence_ab").clip(0.0, 1.0),
        pl.col("confidence_ba").clip(0.0, 1.0),
        pl.col("first_seen"),
        pl.col("last_seen"),
        pl.lit(BEHAVIOUR_MODEL).alias("model"),
        pl.lit("n/a").alias("prompt_version"),
        pl.format("together in {} baskets, lift {}", pl.col("n_ab"), pl.col("lift").round(1))
        .alias("rationale"),
        pl.lit(run_id).alias("run_id"),
        pl.lit(_evidence_id(pairs)).alias("evidence_id"),
    )
    pq.write_table(conform(relations.to_arrow(), Relation), out_dir / "relations" / "part-00000.parquet")
    return {"items": count_rows(out_dir / "items"), "relations": relations.height}
