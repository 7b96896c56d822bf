"""Pair features: joined, not looked up; unknowns are NaN, never a negative signal."""

import json
import math
from datetime import UTC, datetime

import numpy as np
import polars as pl

from pipelines.refine.features import FEATURES, pair_features
from pipelines.refine.titles import TitleModel

SEEN = datetime(2026, 1, 1, tzinfo=UTC)
ITEMS = pl.DataFrame({"item_id": ["p1", "p2", "p3"], "title": ["HERB MARKER MINT", "HERB MARKER THYME", "DOOR MAT"],
                      "category": [None, None, None], "brand": [None, None, None], "price": [0.65, 0.65, 7.5]},
                     schema_overrides={"category": pl.String, "brand": pl.String})
MINED = pl.DataFrame({"item_a": ["p1"], "item_b": ["p2"], "n_ab": [9], "lift": [math.e], "npmi": [0.5],
                      "confidence_ab": [0.3], "confidence_ba": [0.6], "first_seen": [SEEN], "last_seen": [SEEN]})
ANSWERS = pl.DataFrame({"task": ["pair", "commonsense"], "status": ["ok", "ok"], "item_a": ["p2", "p1"],
                        "item_b": ["p1", None], "answer_json": [json.dumps({"relation": "complement",
                                                                            "confidence": 0.8}), "{}"]})


def test_features_of_mined_answered_and_unknown_pairs() -> None:
    pairs = pl.DataFrame({"a": ["p2", "p1"], "b": ["p1", "p3"]})
    frame = pair_features(pairs, ITEMS.vstack(ITEMS.head(1)), MINED, ANSWERS, TitleModel.fit(ITEMS["title"]),
                          lambda left, right: np.full(len(left), 0.25))
    assert frame.columns == ["a", "b", *FEATURES] and frame.height == 2
    mined, other = frame.row(0, named=True), frame.row(1, named=True)
    assert (mined["a"], mined["b"]) == ("p1", "p2")  # pairs come out ordered
    assert mined["co_purchased"] == 1.0 and mined["log_lift"] == 1.0 and mined["confidence_max"] == 0.6
    assert mined["llm_asked"] == 1.0 and mined["llm_complement"] == 1.0 and mined["llm_confidence"] == 0.8
    assert mined["log_price_ratio"] == 0.0 and math.isnan(mined["same_category"])
    assert mined["one_span"] == 1.0 and mined["text_similarity"] == 0.25
    assert other["co_purchased"] == 0.0 and other["log_n_ab"] == 0.0 and math.isnan(other["log_lift"])
    assert other["llm_asked"] == 0.0 and math.isnan(other["llm_complement"])
    assert mined["variant_score"] > other["variant_score"]


def test_without_answers_or_similarity_those_features_are_unknown() -> None:
    frame = pair_features(pl.DataFrame({"a": ["p1"], "b": ["p2"]}), ITEMS, MINED, None,
                          TitleModel.fit(ITEMS["title"]))
    row = frame.row(0, named=True)
    assert row["llm_asked"] == 0.0 and math.isnan(row["llm_variant"]) and math.isnan(row["text_similarity"])


def test_a_pair_lacking_a_title_has_unknown_title_features_and_no_text_similarity() -> None:
    items = ITEMS.with_columns(pl.when(pl.col("item_id") == "p3").then(None).otherwise(pl.col("title"))
                               .alias("title"))
    asked: list[list[str]] = []

    def similarity(left: list[str], right: list[str]) -> np.ndarray:
        asked.append(left + right)
        return np.full(len(left), 0.25)

    frame = pair_features(pl.DataFrame({"a": ["p1", "p1"], "b": ["p2", "p3"]}), items, MINED, None,
                          TitleModel.fit(items["title"]), similarity)
    titled, untitled = frame.row(0, named=True), frame.row(1, named=True)
    assert asked == [["HERB MARKER MINT", "HERB MARKER THYME"]]  # an empty title is never embedded
    assert titled["text_similarity"] == 0.25 and titled["one_span"] == 1.0
    assert math.isnan(untitled["text_similarity"]) and math.isnan(untitled["differs_in_noun"])
    assert untitled["complement_candidate"] == 0.0 and 0.0 < untitled["variant_score"] < 0.5
