"""Weak pair labels from Amazon's co-purchase and co-view links, for a critic or a benchmark.

Amazon product metadata (the 2018 format `pipelines.ingest.amazon` reads) lists, per product,
the asins customers `also_buy` and `also_view`. The usual reading (McAuley, Pandey and Leskovec,
"Inferring networks of substitutable and complementary products", KDD 2015) takes an
also-bought link as a complement and an also-viewed one as a substitute. They are weak labels,
and what is weak is worth saying wherever they are used:

- the links are Amazon's own recommender lists: behaviour (what people bought or viewed next),
  not what the products are; truncated, popularity-biased and asymmetric;
- a pair on both lists says neither kind: such pairs are left out, and counted;
- `unrelated` means only "no link between them", drawn at random from the catalog, so the
  negatives are mostly easy (other departments), not the hard near-misses a curator sees;
- nothing marks variants (editions or subscription lengths of one title fall under also_view).

`weak_labels` gives an (a, b, label) table for `pipelines.refine.labels.labels_from_table`.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import polars as pl

from kg.errors import InputDataError

LINKS = {"also_buy": "complement", "also_view": "substitute"}
_SCHEMA: dict[str, pl.DataType] = {"asin": pl.String(), "also_buy": pl.List(pl.String),
                                 "also_view": pl.List(pl.String)}


def read_links(path: Path) -> pl.DataFrame:
    """Columns a, b (a < b), also_buy, also_view (booleans): one row per linked pair.

    A link in either direction, from any of a product's duplicate records, counts; links to
    asins without a record of their own in the file, and self links, are dropped.

    Raises:
        InputDataError: the file is missing or is not JSON lines with an `asin` field.
    """
    if not path.is_file():
        raise InputDataError(str(path), "no such Amazon metadata file")
    raw = path.read_bytes()
    try:
        records = pl.read_ndjson(io.BytesIO(gzip.decompress(raw) if path.suffix == ".gz" else raw),
                                 schema=_SCHEMA)
    except (OSError, pl.exceptions.ComputeError) as e:
        raise InputDataError(str(path), f"not Amazon metadata JSON lines ({e})") from e
    known = records["asin"].drop_nulls().unique().implode()
    links = pl.concat([records.select("asin", pl.col(link).alias("other"), pl.lit(link).alias("link"))
                       .explode("other") for link in LINKS])
    pairs = links.filter(pl.col("other").is_in(known) & (pl.col("asin") != pl.col("other"))).select(
        pl.min_horizontal("asin", "other").alias("a"), pl.max_horizontal("asin", "other").alias("b"), "link")
    return (pairs.group_by("a", "b").agg(*((pl.col("link") == link).any().alias(link) for link in LINKS))
            .sort("a", "b"))


def weak_labels(links: pl.DataFrame, item_ids: Iterable[str], negatives: float = 1.0,
                seed: int = 0) -> pl.DataFrame:
    """(a, b, label) rows: a pair with one kind of link labeled by `LINKS`, plus random unrelated pairs.

    Only pairs with both items in `item_ids` are kept. Pairs linked both ways are left out
    (ambiguous). `negatives` unrelated pairs per labeled pair are drawn uniformly, with
    `numpy.random.default_rng(seed)`, from the pairs of `item_ids` with no link at all;
    positives come first (sorted by pair), then the negatives in the order drawn.

    Raises:
        InputDataError: the catalog has fewer unlinked pairs than the negatives asked for.
    """
    ids = sorted(set(item_ids))
    inside = links.filter(pl.col("a").is_in(pl.Series(ids, dtype=pl.String).implode())
                          & pl.col("b").is_in(pl.Series(ids, dtype=pl.String).implode()))
    buy, view = pl.col("also_buy"), pl.col("also_view")
    labeled = inside.filter(buy ^ view).select(
        "a", "b", pl.when(buy).then(pl.lit(LINKS["also_buy"])).otherwise(pl.lit(LINKS["also_view"]))
        .alias("label")).sort("a", "b")
    wanted = round(negatives * labeled.height)
    linked = set(zip(inside["a"], inside["b"], strict=True))
    if wanted > len(ids) * (len(ids) - 1) // 2 - len(linked):
        raise InputDataError("links", f"{len(ids)} items have fewer than {wanted} unlinked pairs to draw")
    drawn = _unlinked_pairs(ids, linked, wanted, np.random.default_rng(seed))
    unrelated = pl.DataFrame(drawn, schema={"a": pl.String, "b": pl.String}, orient="row")
    return pl.concat([labeled, unrelated.with_columns(pl.lit("unrelated").alias("label"))])


def _unlinked_pairs(ids: list[str], linked: set[tuple[str, str]], wanted: int,
                    rng: np.random.Generator) -> list[tuple[str, str]]:
    """`wanted` distinct (a, b) pairs, a < b, of `ids` not in `linked`, in the order drawn."""
    chosen: dict[tuple[str, str], None] = {}
    while len(chosen) < wanted:
        left = rng.integers(0, len(ids), size=2 * (wanted - len(chosen)) + 8)
        right = rng.integers(0, len(ids), size=len(left))
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            pair = (ids[min(i, j)], ids[max(i, j)])
            if i != j and pair not in linked and pair not in chosen:
                chosen[pair] = None
                if len(chosen) == wanted:
                    break
    return list(chosen)
