"""Candidate statistics on inputs small enough to check by hand."""

import math
from datetime import UTC, datetime

import polars as pl
import pytest

from pipelines.candidates import stats
from pipelines.candidates.mining import _split_totals, mine_locally
from pipelines.config import CandidatesSection


def _events(rows: list[tuple[str, str, str, int]]) -> pl.DataFrame:
    """(user, session, item, minute) -> canonical events frame."""
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[2] for r in rows],
            "event_type": ["purchase"] * len(rows),
            "ts": [datetime(2026, 1, 1, 0, r[3], tzinfo=UTC) for r in rows],
            "session_id": [r[1] for r in rows],
            "query": [None] * len(rows),
        },
        schema_overrides={"ts": stats.TS, "query": pl.String},
    )


# Baskets: s1 = {A, B, C}, s2 = {A, B} (A twice), s3 = {B, C}, s4 = {D}.
EVENTS = _events([
    ("u1", "s1", "A", 1), ("u1", "s1", "B", 2), ("u1", "s1", "C", 3),
    ("u2", "s2", "A", 10), ("u2", "s2", "A", 11), ("u2", "s2", "B", 12),
    ("u3", "s3", "B", 20), ("u3", "s3", "C", 21),
    ("u4", "s4", "D", 30),
])


def _totals(events: pl.DataFrame, cap: int = 50) -> pl.DataFrame:
    baskets = stats.basket_events(events, "session", 86_400)
    return stats.sum_partials(stats.pair_partials(baskets, cap))


def test_item_and_basket_counts() -> None:
    counts, n_baskets, capped = _split_totals(_totals(EVENTS))
    assert n_baskets == 4
    assert capped == 0
    assert dict(counts.sort("item_id").iter_rows()) == {"A": 2, "B": 3, "C": 2, "D": 1}


def test_pair_statistics_by_hand() -> None:
    totals = _totals(EVENTS)
    counts, n_baskets, _ = _split_totals(totals)
    pairs = stats.pair_statistics(totals, counts, n_baskets, shrinkage=5.0, min_pair_count=1)
    by_pair = {(r["item_a"], r["item_b"]): r for r in pairs.iter_rows(named=True)}
    assert set(by_pair) == {("A", "B"), ("A", "C"), ("B", "C")}
    ab = by_pair[("A", "B")]
    assert (ab["n_ab"], ab["n_a"], ab["n_b"], ab["n_baskets"]) == (2, 2, 3, 4)
    assert ab["support"] == pytest.approx(0.5)
    assert ab["confidence_ab"] == pytest.approx(1.0)
    assert ab["confidence_ba"] == pytest.approx(2 / 3)
    assert ab["lift"] == pytest.approx(4 / 3)
    assert ab["pmi"] == pytest.approx(math.log(4 / 3))
    assert ab["npmi"] == pytest.approx(math.log(4 / 3) / -math.log(0.5))
    assert ab["score"] == pytest.approx(ab["npmi"] * 2 / 7)
    ac = by_pair[("A", "C")]
    assert ac["lift"] == pytest.approx(1 * 4 / (2 * 2))  # independent: lift 1, pmi 0
    assert ac["pmi"] == pytest.approx(0.0)
    assert ab["first_seen"] == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert ab["last_seen"] == datetime(2026, 1, 1, 0, 12, tzinfo=UTC)


def test_min_pair_count_drops_rare_pairs() -> None:
    totals = _totals(EVENTS)
    counts, n_baskets, _ = _split_totals(totals)
    pairs = stats.pair_statistics(totals, counts, n_baskets, shrinkage=0.0, min_pair_count=2)
    assert sorted(pairs.select("item_a", "item_b").iter_rows()) == [("A", "B"), ("B", "C")]


def test_basket_cap_keeps_earliest_items_and_counts_cut_baskets() -> None:
    events = _events([("u", "s", item, minute) for minute, item in enumerate("EDCBA")])
    totals = _totals(events, cap=3)
    counts, n_baskets, capped = _split_totals(totals)
    assert capped == 1
    assert sorted(counts["item_id"]) == ["C", "D", "E"]  # the three earliest
    assert totals.filter(pl.col("item_a") < pl.col("item_b")).height == 3


def test_user_window_baskets() -> None:
    events = _events([("u1", "x", "A", 0), ("u1", "y", "B", 5), ("u1", "z", "C", 59)])
    # Minutes 0 and 5 fall in one 10-minute window, minute 59 in another.
    baskets = stats.basket_events(events, "user_window", 600)
    assert baskets["basket"].n_unique() == 2


def test_ranks_and_top_k_with_ties_broken_by_id() -> None:
    pairs = pl.DataFrame({
        "item_a": ["A", "A", "A", "B", "B"], "item_b": ["B", "C", "D", "C", "D"],
        "score": [0.5, 0.5, 0.9, 0.1, 0.05],
    })
    ranked = stats.rank_within(stats.rank_within(pairs, "item_a", "item_b", "rank_a"),
                               "item_b", "item_a", "rank_b")
    ranks = {(r["item_a"], r["item_b"]): (r["rank_a"], r["rank_b"]) for r in ranked.iter_rows(named=True)}
    assert ranks == {("A", "D"): (1, 1), ("A", "B"): (2, 1), ("A", "C"): (3, 1), ("B", "C"): (1, 2),
                     ("B", "D"): (2, 2)}
    kept = stats.keep_top_k(ranked, 1)
    assert ("B", "D") not in set(kept.select("item_a", "item_b").iter_rows())
    assert kept.height == 4


def test_budget_takes_best_scores_in_a_stable_order() -> None:
    pairs = pl.DataFrame({"item_a": ["A", "A", "B"], "item_b": ["C", "B", "C"], "score": [0.2, 0.2, 0.9]})
    top = stats.top_by_score(pairs, 2)
    assert top.select("item_a", "item_b", "llm_rank").rows() == [("B", "C", 1), ("A", "B", 2)]


def test_query_statistics_by_hand() -> None:
    events = _events([("u", "s", "A", 1), ("u", "s", "A", 2), ("u", "s", "B", 3), ("u", "t", "A", 4)])
    events = events.with_columns(pl.Series("query", ["tent", "tent", "tent", "lamp"]))
    partials = stats.query_partials(events)
    counts = partials.group_by("item_id").agg(pl.col("n_qi").sum().alias("n"))
    table = stats.query_statistics(partials, counts, 4, min_count=1, top_k=5)
    rows = {(r["query"], r["item_id"]): r for r in table.iter_rows(named=True)}
    tent_a = rows[("tent", "A")]
    assert (tent_a["n_qi"], tent_a["n_q"], tent_a["n_i"], tent_a["rank"]) == (2, 3, 3, 1)
    assert tent_a["confidence"] == pytest.approx(2 / 3)
    assert tent_a["lift"] == pytest.approx(2 * 4 / (3 * 3))
    assert rows[("tent", "B")]["rank"] == 2


def test_local_mining_on_empty_query_column_gives_empty_query_table() -> None:
    result = mine_locally(EVENTS, CandidatesSection(min_pair_count=1))
    assert result.query_items.num_rows == 0
    assert result.pairs.num_rows == 3
    assert result.llm_queue.column("llm_rank").to_pylist() == [1, 2, 3]
