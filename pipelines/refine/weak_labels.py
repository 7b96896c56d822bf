"""Weak pair labels from a catalog's own links (Amazon's co-purchase and co-view lists).

`kgrec ingest --format amazon` writes the metadata's lists as the `links` table
(`pipelines.ingest.links`): per product, the asins customers also bought, also viewed, bought
together or bought after viewing. The usual reading (McAuley, Pandey and Leskovec, "Inferring
networks of substitutable and complementary products", KDD 2015) takes a bought-with link as a
complement and a viewed-instead one as a substitute. They are weak labels, and what is weak is
worth saying wherever they are used:

- the links are Amazon's own recommender lists: behaviour (what people bought or viewed next),
  not what the products are; truncated, popularity-biased and asymmetric;
- a pair linked both ways says neither kind: such pairs are left out, and counted;
- `unrelated` means only "no link between them", drawn at random from the catalog, so the
  negatives are mostly easy (other departments), not the hard near-misses a curator sees;
- nothing marks variants (editions or subscription lengths of one title fall under also_viewed).

`weak_labels` gives an (a, b, label) table for `pipelines.refine.labels.labels_from_table`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

from kg.errors import InputDataError
from pipelines.ingest.links import linked_labels


def weak_labels(links: pl.DataFrame, item_ids: Iterable[str], negatives: float = 1.0,
                seed: int = 0) -> pl.DataFrame:
    """(a, b, label) rows: the pairs of `links` with one label, plus random unrelated pairs.

    `links` is `pipelines.ingest.links.read_links` of a links table. Only pairs with both items
    in `item_ids` are kept. Pairs with both labels are left out
    (ambiguous). `negatives` unrelated pairs per labeled pair are drawn uniformly, with
    `numpy.random.default_rng(seed)`, from the pairs of `item_ids` with no link at all;
    positives come first (sorted by pair), then the negatives in the order drawn.

    Raises:
        InputDataError: the catalog has fewer unlinked pairs than the negatives asked for.
    """
    ids = sorted(set(item_ids))
    inside = links.filter(pl.col("a").is_in(pl.Series(ids, dtype=pl.String).implode())
                          & pl.col("b").is_in(pl.Series(ids, dtype=pl.String).implode()))
    labeled = linked_labels(inside).sort("a", "b")
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
