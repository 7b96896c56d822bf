"""A readable view of extracted relations: counts per type and a sample with item titles."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from kg.errors import InputDataError
from pipelines.outputs import require_complete


def relation_sample(extract_dir: Path, ingest_dir: Path, per_type: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(type -> count, up to `per_type` relations per type with head/tail titles)."""
    require_complete(extract_dir, "extract")
    relations = pl.read_parquet(extract_dir / "relations" / "*.parquet")
    items_path = ingest_dir / "items"
    if not items_path.is_dir():
        raise InputDataError(str(items_path), "no items table (pass --ingest)")
    titles = pl.read_parquet(items_path / "*.parquet", columns=["item_id", "title"])
    distribution = relations.group_by("type").len().sort("len", descending=True)
    sample = (relations.sort("id").group_by("type", maintain_order=True).head(per_type)
              .join(titles.rename({"item_id": "head", "title": "head_title"}), on="head", how="left")
              .join(titles.rename({"item_id": "tail", "title": "item_title"}), on="tail", how="left")
              .with_columns(pl.coalesce("item_title", "tail_text", "tail").alias("tail_title"))
              .select("type", "head_title", "tail_title", "confidence", "model")
              .sort("type"))
    return distribution, sample
