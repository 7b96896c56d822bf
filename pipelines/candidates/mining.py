"""The two ways to run candidate mining over the same `stats` functions.

`mine_with_ray` is the production plan: an exchange through files (`buckets.exchanged`, a keyed
shuffle without Ray Data's aggregator actors) puts every event of a basket into one block, whose
pair counts are written to the period's buckets of item_a (query counts: of the query;
`pipelines.candidates.buckets`). One task per bucket then sums it over every period, so a block
holds every pair of its item_a values and every count of its queries; a second exchange, by
item_b, ranks pairs for their other item. Each block is reduced with polars. Memory per task is
bounded by the bucket size; nothing is collected on the driver except per-item counts and the
LLM budget's rows. The exchanges' files live under `<output>/_exchange` until the stage is done.

(The `type: ignore[arg-type]` marks below are for Ray's stub, which types UDFs as
one-argument callables; `fn_kwargs` supplies the rest.)

`mine_locally` runs the same functions on one polars frame in one process: the baseline the
benchmark compares against, and a reference the tests compare the Ray plan with.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from kg.arrow_schema import conform
from kg.schema import ItemPair, LlmQueueEntry, QueryItemPair
from pipelines.candidates import buckets, periods, stats
from pipelines.config import CandidatesSection

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


def _statistics_udf(batch: pa.Table, item_counts: Any, n_baskets: int,
                    config: CandidatesSection) -> pa.Table:
    """Statistics and rank_a for a block holding every pair of its item_a values."""
    import ray

    counts = _frame(ray.get(item_counts))
    scored = stats.pair_statistics(_frame(batch), counts, n_baskets, config.score_shrinkage,
                                   config.min_pair_count)
    return stats.rank_within(scored, "item_a", "item_b", "rank_a").to_arrow()


def _rank_b_top_k(pairs: pl.DataFrame, k: int) -> pl.DataFrame:
    """rank_b and the top k, for a block holding every pair of its item_b values."""
    return stats.keep_top_k(stats.rank_within(pairs, "item_b", "item_a", "rank_b"), k)


def _conform_udf(batch: pa.Table) -> pa.Table:
    return conform(batch, ItemPair)


def _budget_udf(batch: pa.Table, budget: int) -> pa.Table:
    return stats.top_by_score(_frame(batch), budget).drop("llm_rank").to_arrow()


def _query_partials_udf(batch: pa.Table) -> pa.Table:
    return stats.query_partials(_frame(batch)).to_arrow()


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
    buckets: int  # every period's counts lie in this many buckets of their key


def _read_events(events_dir: Path, columns: list[str], since: datetime | None) -> Any:
    import ray.data
    from ray.data.expressions import col, lit

    events = ray.data.read_parquet(str(events_dir), columns=columns)
    return events if since is None else events.filter(expr=col("ts") >= lit(since))


def _write_counts(counts: Any, increment: Increment, kind: str, key: str,
                  columns: list[str] | None = None) -> None:
    """Write this period's `counts` of `kind` (partial sums, from any blocks) into its buckets of `key`."""
    buckets.write_bucketed(counts, key, increment.buckets,
                           periods.period_dir(increment.out_dir, kind, periods.label_for(increment.since)),
                           columns)


def _scratch(out_dir: Path) -> Path:
    """Where the exchanges' files go: inside the output, so on storage every node reads."""
    return out_dir / "_exchange"


def _count_pairs(events_dir: Path, increment: Increment, config: CandidatesSection,
                 partitions_for: Callable[[int], int]) -> Any:
    """This period's pair counts per basket bucket (additive partials, a pair in several buckets).

    None when no event has a basket key.
    """
    basket_columns = ["session_id"] if config.basket_by == "session" else ["user_id"]
    # Read only what is needed, and drop repeat (basket, item) rows before the exchange: it
    # writes every byte that reaches it.
    basket_items = _read_events(events_dir, [*basket_columns, "item_id", "ts"], increment.since).map_batches(
        _basket_items_udf, fn_kwargs={"config": config},
        batch_format="pyarrow")
    return buckets.exchanged(basket_items, "basket", partitions_for(increment.events),
                             _scratch(increment.out_dir) / "baskets",
                             partial(stats.pair_partials, max_basket_items=config.max_basket_items))


def _pair_totals(events_dir: Path, increment: Increment, config: CandidatesSection,
                 partitions_for: Callable[[int], int]) -> Any:
    """Pair counts summed over every period, one block per bucket of item_a (None: none counted).

    This period's counts are written first, as each basket bucket counted them: a pair's
    partials from several basket buckets (and periods) meet in its bucket, where the merge sums them.
    """
    partials = _count_pairs(events_dir, increment, config, partitions_for) if increment.events else None
    if partials is not None:
        _write_counts(partials, increment, "pairs", "item_a")
    return buckets.merged(periods.kind_dir(increment.out_dir, "pairs"), stats.sum_partials)


def mine_with_ray(events_dir: Path, increment: Increment, config: CandidatesSection,
                  partitions_for: Callable[[int], int]) -> MiningResult:
    """Build and run the Ray Data plan; returns lazy pair and query datasets.

    `partitions_for(rows)` sizes each exchange by the rows it moves: events by basket, pairs by
    item_b. This period's counts are written under `increment.out_dir/counts` on the way.
    Pairs are None when no basket holds two items counted often enough.
    """
    try:
        pairs, n_baskets, capped = _mine_pairs(events_dir, increment, config, partitions_for)
        map_kwargs: dict[str, Any] = {"batch_format": "pyarrow", "batch_size": None}
        block_tops = (_collect(pairs.map_batches(_budget_udf, fn_kwargs={"budget": config.llm_budget},
                                                 **map_kwargs)) if pairs is not None else pl.DataFrame())
        queue = stats.top_by_score(block_tops, config.llm_budget) if block_tops.height else None
        query_items = _mine_queries_with_ray(events_dir, increment, config)
    finally:
        shutil.rmtree(_scratch(increment.out_dir), ignore_errors=True)
    return MiningResult(pairs, _queue_table(queue), query_items, n_baskets, capped)


def _mine_pairs(events_dir: Path, increment: Increment, config: CandidatesSection,
                partitions_for: Callable[[int], int]) -> tuple[Any, int, int]:
    """(kept pairs, materialized or None; baskets; capped baskets) over every period's counts."""
    import ray
    from ray.data.expressions import col

    totals = _pair_totals(events_dir, increment, config, partitions_for)
    if totals is None:
        return None, 0, 0
    diagonal = totals.filter(expr=col("item_a") == col("item_b"))  # item and basket counts
    item_counts, n_baskets, capped = _split_totals(_collect(diagonal))
    scored = totals.map_batches(
        _statistics_udf,
        fn_kwargs={"item_counts": ray.put(item_counts.to_arrow()), "n_baskets": n_baskets, "config": config},
        batch_format="pyarrow", batch_size=None,
    )
    ranked = buckets.exchanged(scored, "item_b", partitions_for(totals.count()),
                               _scratch(increment.out_dir) / "pairs", partial(_rank_b_top_k,
                                                                               k=config.top_k_per_item))
    if ranked is None:
        return None, n_baskets, capped
    kept = ranked.map_batches(_conform_udf, batch_format="pyarrow", batch_size=None).materialize()
    return kept, n_baskets, capped


def _query_totals(events_dir: Path, increment: Increment) -> Any:
    """(query, item) counts summed over every period, one block per bucket of query (None: none).

    This period's are counted in each read block as it is (no shuffle); a query's counts from
    several blocks meet in its bucket.
    """
    from ray.data.expressions import col

    if increment.events:
        # Rows without a query are dropped first: they count nothing and would all hash alike.
        led = (_read_events(events_dir, ["query", "item_id", "ts"], increment.since)
               .filter(expr=col("query").is_not_null()))
        partials = led.map_batches(_query_partials_udf, batch_format="pyarrow", batch_size=None)
        _write_counts(partials, increment, "queries", "query", list(QUERY_COUNTS))
    return buckets.merged(periods.kind_dir(increment.out_dir, "queries"), stats.sum_query_partials)


def _mine_queries_with_ray(events_dir: Path, increment: Increment, config: CandidatesSection) -> Any:
    import ray

    partials = _query_totals(events_dir, increment)
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
