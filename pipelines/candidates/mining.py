"""The two ways to run candidate mining over the same `stats` functions.

`mine_with_ray` is the production plan: hash shuffles put every event of a basket, every
pair of an item (for item_a, then for item_b) and every event of a query into one block
(Ray keeps a hash partition in one block), and each block is reduced with polars. Memory
per task is bounded by the partition size; nothing is collected on the driver except
per-item counts and the LLM budget's rows.

(The `type: ignore[arg-type]` marks below are for Ray's stub, which types UDFs as
one-argument callables; `fn_kwargs` supplies the rest.)

`mine_locally` runs the same functions on one polars frame in one process: the baseline the
benchmark compares against, and a reference the tests compare the Ray plan with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from kg.arrow_schema import conform
from kg.schema import ItemPair, LlmQueueEntry, QueryItemPair
from pipelines.candidates import periods, stats
from pipelines.config import CandidatesSection
from pipelines.outputs import write_dataset

QUERY_COUNTS = ("query", "item_id", "n_qi", "first_seen", "last_seen")  # what a period keeps of queries


@dataclass
class MiningResult:
    """Mined tables. Ray results hold Datasets (lazy); local results hold Arrow tables."""

    pairs: Any
    llm_queue: pa.Table
    query_items: Any
    n_baskets: int
    capped_baskets: int


def _frame(batch: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _basket_items_udf(batch: pa.Table, config: CandidatesSection) -> pa.Table:
    baskets = stats.basket_events(_frame(batch), config.basket_by, config.window_seconds)
    assert isinstance(baskets, pl.DataFrame)
    return stats.first_seen_in_basket(baskets).to_arrow()


def _pair_partials_udf(batch: pa.Table, config: CandidatesSection) -> pa.Table:
    return stats.pair_partials(_frame(batch), config.max_basket_items).to_arrow()


def _sum_partials_udf(batch: pa.Table) -> pa.Table:
    return stats.sum_partials(_frame(batch)).to_arrow()


def _statistics_udf(batch: pa.Table, item_counts: Any, n_baskets: int,
                    config: CandidatesSection) -> pa.Table:
    """Statistics and rank_a for a block holding every pair of its item_a values."""
    import ray

    counts = _frame(ray.get(item_counts))
    scored = stats.pair_statistics(_frame(batch), counts, n_baskets, config.score_shrinkage,
                                   config.min_pair_count)
    return stats.rank_within(scored, "item_a", "item_b", "rank_a").to_arrow()


def _rank_udf(batch: pa.Table, key: str, partner: str, rank_column: str) -> pa.Table:
    return stats.rank_within(_frame(batch), key, partner, rank_column).to_arrow()


def _top_k_udf(batch: pa.Table, k: int) -> pa.Table:
    return conform(stats.keep_top_k(_frame(batch), k).to_arrow(), ItemPair)


def _budget_udf(batch: pa.Table, budget: int) -> pa.Table:
    return stats.top_by_score(_frame(batch), budget).drop("llm_rank").to_arrow()


def _query_partials_udf(batch: pa.Table) -> pa.Table:
    return stats.query_partials(_frame(batch)).to_arrow()


def _sum_query_partials_udf(batch: pa.Table) -> pa.Table:
    return stats.sum_query_partials(_frame(batch)).to_arrow()


def _query_statistics_udf(batch: pa.Table, item_counts: Any, n_events: int,
                          config: CandidatesSection) -> pa.Table:
    import ray

    table = stats.query_statistics(_frame(batch), _frame(ray.get(item_counts)), n_events,
                                   config.min_query_count, config.query_top_k)
    return conform(table.to_arrow(), QueryItemPair)


def _collect(dataset: Any) -> pl.DataFrame:
    """Bring a small dataset to the driver as one frame (empty frame if it has no rows)."""
    import ray

    frames = [_frame(t) for t in ray.get(dataset.to_arrow_refs()) if t.num_rows]
    return pl.concat(frames) if frames else pl.DataFrame()


def _split_totals(totals: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """(item counts, n_baskets, capped baskets) from the diagonal and sentinel rows."""
    if totals.height == 0:
        return pl.DataFrame({"item_id": [], "n": []}, schema={"item_id": pl.String, "n": pl.Int64}), 0, 0
    marker = totals.filter(pl.col("item_a") == stats.BASKETS)
    items = totals.filter((pl.col("item_a") == pl.col("item_b")) & (pl.col("item_a") != stats.BASKETS))
    n_baskets = int(marker["n"].sum()) if marker.height else 0
    capped = int(marker["capped"].sum()) if marker.height else 0
    return items.select(pl.col("item_a").alias("item_id"), "n"), n_baskets, capped


@dataclass
class Increment:
    """What one candidates run counts, and where its counts go (`pipelines.candidates.periods`)."""

    out_dir: Path
    since: datetime | None  # count events at or after it; None: every event
    events: int  # the events it counts
    merge: bool  # earlier periods' counts lie beside this one's: statistics come from their sum


def _read_events(events_dir: Path, columns: list[str], since: datetime | None) -> Any:
    import ray.data
    from ray.data.expressions import col, lit

    events = ray.data.read_parquet(str(events_dir), columns=columns)
    return events if since is None else events.filter(expr=col("ts") >= lit(since))


def _merged(kind: str, increment: Increment, key: str, udf: Callable[..., pa.Table],
            partitions_for: Callable[[int], int]) -> Any:
    """Every period's counts of `kind`, summed per key with `udf` after one shuffle on `key`."""
    import ray.data

    files = periods.counted_files(increment.out_dir, kind)
    if not files:
        return None
    held = ray.data.read_parquet(files, partitioning=None)
    return (held.repartition(partitions_for(held.count()), keys=[key])
            .map_batches(udf, batch_format="pyarrow", batch_size=None).materialize())


def _count_pairs(events_dir: Path, increment: Increment, config: CandidatesSection,
                 partitions_for: Callable[[int], int]) -> Any:
    """This period's pair counts per basket block (additive partials, a pair in several blocks)."""
    map_kwargs: dict[str, Any] = {"batch_format": "pyarrow", "batch_size": None}
    basket_columns = ["session_id"] if config.basket_by == "session" else ["user_id"]
    # Read only what is needed, and drop repeat (basket, item) rows before the shuffle: the
    # shuffle moves every byte that reaches it.
    basket_items = _read_events(events_dir, [*basket_columns, "item_id", "ts"], increment.since).map_batches(
        _basket_items_udf, fn_kwargs={"config": config},
        batch_format="pyarrow")
    return (
        basket_items.repartition(partitions_for(increment.events), keys=["basket"])
        .map_batches(_pair_partials_udf, fn_kwargs={"config": config}, **map_kwargs)
        .materialize()
    )


def _sum_by_item_a(partials: Any, partitions_for: Callable[[int], int]) -> Any:
    """Partials summed per pair, every pair of an item_a in one block.

    Partials of a pair share item_a (a <= b), so partitioning by item_a alone both sums them
    exactly and puts every pair of item_a in one block, ready for ranking without a shuffle.
    """
    return (partials.repartition(partitions_for(partials.count()), keys=["item_a"])
            .map_batches(_sum_partials_udf, batch_format="pyarrow", batch_size=None).materialize())


def _pair_totals(events_dir: Path, increment: Increment, config: CandidatesSection,
                 partitions_for: Callable[[int], int]) -> Any:
    """The counts statistics are computed from: this period's, summed with earlier ones' when merging.

    A full run keeps its period summed (smaller); an increment keeps its per-block partials as they
    are, since the merge sums every period anyway: one shuffle fewer.
    """
    period = periods.period_dir(increment.out_dir, "pairs", periods.label_for(increment.since))
    totals = None
    if increment.events:
        partials = _count_pairs(events_dir, increment, config, partitions_for)
        totals = partials if increment.merge else _sum_by_item_a(partials, partitions_for)
        write_dataset(totals, period)
    if increment.merge:
        totals = _merged("pairs", increment, "item_a", _sum_partials_udf, partitions_for)
    return totals


def mine_with_ray(events_dir: Path, increment: Increment, config: CandidatesSection,
                  partitions_for: Callable[[int], int]) -> MiningResult:
    """Build and run the Ray Data plan; returns lazy pair and query datasets.

    `partitions_for(rows)` sizes each shuffle by the rows it moves, which shrink from events
    to basket items to pair partials to pairs. The increment's counts are written under
    `increment.out_dir/counts` on the way.
    """
    import ray

    map_kwargs: dict[str, Any] = {"batch_format": "pyarrow", "batch_size": None}
    totals = _pair_totals(events_dir, increment, config, partitions_for)
    item_counts, n_baskets, capped = _split_totals(_collect(totals.filter(expr="item_a == item_b")))
    pairs = (
        totals.map_batches(
            _statistics_udf,
            fn_kwargs={"item_counts": ray.put(item_counts.to_arrow()), "n_baskets": n_baskets,
                       "config": config},
            **map_kwargs,
        )
        .repartition(partitions_for(totals.count()), keys=["item_b"])
        .map_batches(_rank_udf, fn_kwargs={"key": "item_b", "partner": "item_a",
                                           "rank_column": "rank_b"}, **map_kwargs)
        .map_batches(_top_k_udf, fn_kwargs={"k": config.top_k_per_item}, **map_kwargs)
        .materialize()
    )
    block_tops = _collect(pairs.map_batches(_budget_udf, fn_kwargs={"budget": config.llm_budget},
                                            **map_kwargs))
    queue = stats.top_by_score(block_tops, config.llm_budget) if block_tops.height else None
    query_items = _mine_queries_with_ray(events_dir, increment, config, partitions_for)
    return MiningResult(pairs, _queue_table(queue), query_items, n_baskets, capped)


def _query_partials(events_dir: Path, increment: Increment, partitions_for: Callable[[int], int]) -> Any:
    """This period's (query, item) counts; None without a query-led event.

    A full run shuffles by query (every query in one block, as its statistics need); an increment
    counts each read block as it is, since the merge shuffles every period's counts anyway.
    """
    from ray.data.expressions import col

    if not increment.events:
        return None
    # Drop rows without a query before the shuffle (no null-key skew, fewer bytes moved).
    led = (_read_events(events_dir, ["query", "item_id", "ts"], increment.since)
           .filter(expr=col("query").is_not_null()).materialize())
    n_led = led.count()
    if n_led == 0:
        return None
    grouped = led if increment.merge else led.repartition(partitions_for(n_led), keys=["query"])
    partials = grouped.map_batches(_query_partials_udf, batch_format="pyarrow", batch_size=None).materialize()
    write_dataset(partials.select_columns(list(QUERY_COUNTS)),
                  periods.period_dir(increment.out_dir, "queries", periods.label_for(increment.since)))
    return partials


def _mine_queries_with_ray(events_dir: Path, increment: Increment, config: CandidatesSection,
                           partitions_for: Callable[[int], int]) -> Any:
    import ray

    partials = _query_partials(events_dir, increment, partitions_for)
    if increment.merge:
        partials = _merged("queries", increment, "query", _sum_query_partials_udf, partitions_for)
    if partials is None:
        return None
    counts = _collect(partials.select_columns(["item_id", "n_qi"])).group_by("item_id").agg(
        pl.col("n_qi").sum().alias("n"))
    return partials.map_batches(
        _query_statistics_udf,
        fn_kwargs={"item_counts": ray.put(counts.to_arrow()), "n_events": int(counts["n"].sum()),
                   "config": config},
        batch_format="pyarrow", batch_size=None,
    )


def _queue_table(queue: pl.DataFrame | None) -> pa.Table:
    if queue is None or queue.height == 0:
        from kg.arrow_schema import arrow_schema_of

        return arrow_schema_of(LlmQueueEntry).empty_table()
    return conform(queue.to_arrow(), LlmQueueEntry)


def mine_locally(events: pl.DataFrame, config: CandidatesSection) -> MiningResult:
    """Same statistics in one process with polars: the baseline and the reference."""
    baskets = stats.basket_events(events, config.basket_by, config.window_seconds)
    assert isinstance(baskets, pl.DataFrame)
    totals = stats.sum_partials(stats.pair_partials(baskets, config.max_basket_items))
    item_counts, n_baskets, capped = _split_totals(totals)
    scored = stats.pair_statistics(totals, item_counts, n_baskets, config.score_shrinkage,
                                   config.min_pair_count)
    ranked = stats.rank_within(stats.rank_within(scored, "item_a", "item_b", "rank_a"),
                               "item_b", "item_a", "rank_b")
    pairs = stats.keep_top_k(ranked, config.top_k_per_item)
    queue = stats.top_by_score(pairs, config.llm_budget)
    partials = stats.query_partials(events)
    counts = partials.group_by("item_id").agg(pl.col("n_qi").sum().alias("n"))
    queries = stats.query_statistics(partials, counts, int(counts["n"].sum()),
                                     config.min_query_count, config.query_top_k)
    return MiningResult(conform(pairs.to_arrow(), ItemPair), _queue_table(queue),
                        conform(queries.to_arrow(), QueryItemPair), n_baskets, capped)
