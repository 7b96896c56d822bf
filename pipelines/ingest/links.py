"""The `links` table: a catalog's own links between its items (Amazon's "also bought" lists, ...).

`kgrec ingest` writes it beside `items/` from the good metadata rows: directed (a's page lists
b), one row per (a, b, kind), only between items of the items table, never an item to itself.
Read back here as weak pair labels, the usual reading of McAuley, Pandey and Leskovec
("Inferring networks of substitutable and complementary products", KDD 2015): bought with it,
a complement; viewed instead of it, a substitute (`LINK_LABELS`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from kg.arrow_schema import arrow_schema_of, conform
from kg.errors import InputDataError
from kg.schema import Link, LinkKind
from pipelines.ingest.staging import LINKS, REASON
from pipelines.outputs import write_dataset, write_table

LINK_LABELS = {LinkKind.ALSO_BOUGHT: "complement", LinkKind.BOUGHT_TOGETHER: "complement",
               LinkKind.ALSO_VIEWED: "substitute", LinkKind.BOUGHT_AFTER_VIEWING: "substitute"}


def _links_of(batch: pa.Table, known: Any) -> pa.Table:
    """Ray UDF: the links of a staged items batch's good rows that point at known items."""
    import ray

    ids = pl.from_arrow(ray.get(known))
    frame = pl.from_arrow(batch.select(["item_id", REASON, LINKS]))
    assert isinstance(frame, pl.DataFrame) and isinstance(ids, pl.Series)
    links = (frame.filter(pl.col(REASON).is_null()).select(pl.col("item_id").alias("a"), LINKS)
             .explode(LINKS).drop_nulls(LINKS).unnest(LINKS)
             .filter(pl.col("b").is_in(ids.implode()) & (pl.col("a") != pl.col("b"))))
    return conform(links.unique().to_arrow(), Link)


def _unique(batch: pa.Table) -> pa.Table:
    """One row per (a, b, kind): every row of an `a` is in the batch (after the shuffle)."""
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return conform(frame.unique().sort("a", "b", "kind").to_arrow(), Link)


def write_links(staged_items: Any, known: Any, out_dir: Path, partitions: int) -> int:
    """Write the links of `staged_items` (a Ray dataset) to items in `known` (an object ref).

    `partitions`: the shuffle's, sized by the item rows the links come from.
    """
    links = staged_items.map_batches(_links_of, batch_format="pyarrow", fn_kwargs={"known": known})
    merged = links.repartition(partitions, keys=["a"]).map_batches(
        _unique, batch_format="pyarrow", batch_size=None)
    written = write_dataset(merged, out_dir)
    if not written:  # an empty table still says "no links" to whoever reads it
        write_table(arrow_schema_of(Link).empty_table(), out_dir)
    return written


def read_links(path: Path) -> pl.DataFrame:
    """(a, b, complement, substitute): one row per linked pair, a < b, links either way counted.

    `path` is a links table (directory or Parquet file); complement and substitute say whether
    any link between the two reads as that label (`LINK_LABELS`).

    Raises:
        InputDataError: nothing at `path`, or it is not a links table.
    """
    if not path.exists():
        raise InputDataError(str(path), "no links table here (`kgrec ingest --format amazon` writes "
                                        "<out>/links/)")
    table = pl.read_parquet(path if path.is_file() else path / "*.parquet")
    if not {"a", "b", "kind"} <= set(table.columns):
        raise InputDataError(str(path), f"not a links table: needs a, b, kind (has "
                                        f"{', '.join(table.columns)})")
    unknown = set(table["kind"].unique().to_list()) - {k.value for k in LINK_LABELS}
    if unknown:
        raise InputDataError(str(path), f"unknown link kinds {sorted(unknown)}; known: "
                                        f"{', '.join(LINK_LABELS)}")
    label = pl.col("kind").replace_strict({k.value: v for k, v in LINK_LABELS.items()})
    pairs = table.select(pl.min_horizontal("a", "b").alias("a"), pl.max_horizontal("a", "b").alias("b"),
                         label.alias("label"))
    return (pairs.group_by("a", "b").agg(*((pl.col("label") == name).any().alias(name)
                                           for name in ("complement", "substitute")))
            .sort("a", "b"))


def linked_labels(links: pl.DataFrame) -> pl.DataFrame:
    """(a, b, label) for the pairs of `read_links` with one label only; pairs with both are left out."""
    complement, substitute = pl.col("complement"), pl.col("substitute")
    label = pl.when(complement).then(pl.lit("complement")).otherwise(pl.lit("substitute"))
    return links.filter(complement ^ substitute).select("a", "b", label.alias("label"))
