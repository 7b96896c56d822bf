"""Pure polars building blocks of candidate mining, shared by the Ray plan and the baseline.

Each function is exact on the rows it is given. The Ray plan guarantees the grouping they
need (all events of a basket in one block, all partials of a pair in one block, ...); the
single-process baseline simply gives them everything at once.

Conventions in the partial-count tables: a row (a, a) counts the baskets holding item a,
and the row (BASKETS, BASKETS) counts baskets, so one aggregation yields pair counts, item
counts and the basket total.
"""

from __future__ import annotations

import polars as pl

BASKETS = ""  # item ids are never empty (ingest refuses them), so "" is free as a sentinel
TS = pl.Datetime("ms", "UTC")


def basket_events(events: pl.DataFrame | pl.LazyFrame, basket_by: str,
                  window_seconds: int) -> pl.DataFrame | pl.LazyFrame:
    """(basket, item_id, ts) rows; events without a basket key are left out.

    `basket_by='session'` uses session_id; 'user_window' uses the user and the fixed time
    window the event falls in.
    """
    if basket_by == "session":
        basket = pl.col("session_id")  # ts is still needed: items count at their first event
    else:
        window = pl.col("ts").dt.epoch("ms") // (window_seconds * 1000)
        basket = pl.format("{}|{}", pl.col("user_id"), window)
    return events.select(basket.alias("basket"), pl.col("item_id"), pl.col("ts")).filter(
        pl.col("basket").is_not_null())


def first_seen_in_basket(baskets: pl.DataFrame) -> pl.DataFrame:
    """One row per (basket, item) with its earliest time; exact on any subset of rows.

    Applied before a shuffle it only shrinks the data; `pair_partials` applies it again to
    whole baskets.
    """
    return baskets.group_by("basket", "item_id").agg(pl.col("ts").min())


def pair_partials(baskets: pl.DataFrame, max_basket_items: int) -> pl.DataFrame:
    """Count pairs, items and baskets in whole baskets (every event of a basket present).

    Each basket counts an item once, at its earliest event; baskets keep their
    `max_basket_items` earliest distinct items (ties by item id), which bounds the pair work
    per basket. The column `capped` on the BASKETS row counts baskets that were cut.
    """
    items = (
        first_seen_in_basket(baskets)
        .sort("basket", "ts", "item_id")
        .with_columns(pl.int_range(pl.len()).over("basket").alias("position"))
    )
    capped = int(items.filter(pl.col("position") == max_basket_items)["basket"].n_unique())
    items = items.filter(pl.col("position") < max_basket_items).drop("position")
    joined = items.join(items, on="basket", suffix="_b").filter(pl.col("item_id") <= pl.col("item_id_b"))
    pairs = joined.group_by(pl.col("item_id").alias("item_a"), pl.col("item_id_b").alias("item_b")).agg(
        pl.len().alias("n"),
        pl.min_horizontal("ts", "ts_b").min().alias("first_seen"),
        pl.max_horizontal("ts", "ts_b").max().alias("last_seen"),
    )
    n_baskets = items["basket"].n_unique()
    span = items.select(pl.col("ts").min().alias("first_seen"), pl.col("ts").max().alias("last_seen"))
    totals = pl.DataFrame({"item_a": [BASKETS], "item_b": [BASKETS], "n": [n_baskets]},
                          schema={"item_a": pl.String, "item_b": pl.String, "n": pl.UInt32}
                          ).hstack(span.cast(TS))
    # Int64 counts: the same schema as summed counts, so periods of either kind read as one table.
    counts = pl.col("n").cast(pl.Int64)
    return pl.concat([pairs.with_columns(counts, pl.lit(0, pl.Int64).alias("capped")),
                      totals.with_columns(counts, pl.lit(capped, pl.Int64).alias("capped"))],
                     how="vertical_relaxed")


def sum_partials(partials: pl.DataFrame) -> pl.DataFrame:
    """Combine partial counts of the same (item_a, item_b) from different blocks."""
    return partials.group_by("item_a", "item_b").agg(
        pl.col("n").sum().cast(pl.Int64), pl.col("first_seen").min(), pl.col("last_seen").max(),
        pl.col("capped").sum().cast(pl.Int64),
    )


def pair_statistics(totals: pl.DataFrame, item_counts: pl.DataFrame, n_baskets: int,
                    shrinkage: float, min_pair_count: int) -> pl.DataFrame:
    """Support, confidences, lift, PMI, NPMI and the budget score of true pairs (a < b).

    `item_counts` has columns item_id, n (baskets per item). Pairs seen in fewer than
    `min_pair_count` baskets are dropped.
    """
    counts = item_counts.select("item_id", pl.col("n").cast(pl.Int64))
    pairs = (
        totals.filter((pl.col("item_a") < pl.col("item_b")) & (pl.col("n") >= min_pair_count))
        .rename({"n": "n_ab"})
        .join(counts.rename({"item_id": "item_a", "n": "n_a"}), on="item_a")
        .join(counts.rename({"item_id": "item_b", "n": "n_b"}), on="item_b")
    )
    n = float(n_baskets)
    support = pl.col("n_ab") / n
    lift = pl.col("n_ab") * n / (pl.col("n_a") * pl.col("n_b")).cast(pl.Float64)
    pmi = lift.log()
    # -ln(support) is 0 when a pair is in every basket: NPMI is then 1 by convention.
    npmi = pl.when(support < 1.0).then(pmi / (-support.log())).otherwise(1.0)
    return pairs.with_columns(
        pl.lit(n_baskets, pl.Int64).alias("n_baskets"),
        support.alias("support"),
        (pl.col("n_ab") / pl.col("n_a")).alias("confidence_ab"),
        (pl.col("n_ab") / pl.col("n_b")).alias("confidence_ba"),
        lift.alias("lift"),
        pmi.alias("pmi"),
        npmi.alias("npmi"),
    ).with_columns(
        (pl.col("npmi") * pl.col("n_ab") / (pl.col("n_ab") + shrinkage)).alias("score"),
    )


def rank_within(pairs: pl.DataFrame, key: str, partner: str, rank_column: str) -> pl.DataFrame:
    """Rank pairs within each `key` item by score (ties: partner id), 1 = best."""
    return pairs.sort([key, "score", partner], descending=[False, True, False]).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(key).alias(rank_column))


def keep_top_k(pairs: pl.DataFrame, k: int) -> pl.DataFrame:
    """Pairs in the top k of either of their items."""
    return pairs.filter((pl.col("rank_a") <= k) | (pl.col("rank_b") <= k))


def top_by_score(pairs: pl.DataFrame, budget: int) -> pl.DataFrame:
    """The `budget` best pairs by score (ties by ids), with `llm_rank` 1..budget."""
    return pairs.sort(["score", "item_a", "item_b"], descending=[True, False, False]).head(
        budget).with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("llm_rank"))


def query_partials(events: pl.DataFrame) -> pl.DataFrame:
    """Per (query, item): count and first/last time, for rows holding every event of a query."""
    led = events.filter(pl.col("query").is_not_null())
    return led.group_by("query", "item_id").agg(
        pl.len().cast(pl.Int64).alias("n_qi"), pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
    ).with_columns(pl.col("n_qi").sum().over("query").alias("n_q"))


def sum_query_partials(partials: pl.DataFrame) -> pl.DataFrame:
    """Combine (query, item) counts of different periods; rows holding every count of a query."""
    return partials.group_by("query", "item_id").agg(
        pl.col("n_qi").sum().cast(pl.Int64), pl.col("first_seen").min(), pl.col("last_seen").max(),
    ).with_columns(pl.col("n_qi").sum().over("query").alias("n_q"))


def query_statistics(partials: pl.DataFrame, item_counts: pl.DataFrame, n_events: int,
                     min_count: int, top_k: int) -> pl.DataFrame:
    """Confidence, lift and per-query rank; keeps the top_k items of each query."""
    ranked = partials.filter(pl.col("n_qi") >= min_count).join(
        item_counts.select("item_id", pl.col("n").cast(pl.Int64).alias("n_i")), on="item_id"
    ).sort(["query", "n_qi", "item_id"], descending=[False, True, False]).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("query").alias("rank"))
    return ranked.filter(pl.col("rank") <= top_k).with_columns(
        pl.lit(n_events, pl.Int64).alias("n_events"),
        (pl.col("n_qi") / pl.col("n_q")).alias("confidence"),
        (pl.col("n_qi") * float(n_events) / (pl.col("n_q") * pl.col("n_i"))).alias("lift"),
    )
