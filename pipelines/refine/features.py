"""Features of an item pair for the critic: titles, co-occurrence, price, category, text and the LLM.

One row per pair (a, b), `FEATURES` in order, floats with NaN for what is unknown (a pair never
co-purchased has n_ab 0 and no lift; a pair the LLM was not asked has no answer; a pair lacking
a title has no title features and no text similarity): the critic imputes them, so a missing
signal is never read as a negative one. The title features are the
catalog-learned alignment (`pipelines.refine.titles`) and the variant detector's score
(`pipelines.refine.variants`); the text similarity is the cosine of the two titles'
sentence embeddings, computed by whatever `Similarity` the caller hands in (the steps pass
all-MiniLM-L6-v2 from `gnn.text`; this package imports no model code).

Work is linear in the pairs: items and mined statistics are joined, not looked up pair by pair.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from pipelines.refine import titles
from pipelines.refine.titles import TitleModel
from pipelines.refine.variants import VariantDetector

# v2: a pair lacking a title has NaN title features and text similarity (v1: zeros, and the cosine of
# two empty strings, 1.0), so an unknown title is never read as "the product noun differs".
FEATURE_VERSION = f"pair.v2+{titles.FEATURE_VERSION}"
# Text similarity of two lists of texts, row by row: cosine in [-1, 1].
Similarity = Callable[[list[str], list[str]], np.ndarray]

CO_OCCURRENCE = ["co_purchased", "log_n_ab", "log_lift", "npmi", "confidence_ab", "confidence_ba",
                 "confidence_max", "log_days_seen"]
SIDES = ["log_price_ratio", "same_category", "same_brand"]
LLM = ["llm_asked", "llm_complement", "llm_substitute", "llm_variant", "llm_unrelated", "llm_confidence"]
DETECTOR = ["variant_score", "complement_candidate", "text_similarity"]
FEATURES = [*titles.FEATURES, *CO_OCCURRENCE, *SIDES, *DETECTOR, *LLM]
ITEM_COLUMNS = ("title", "category", "brand", "price")


def pair_features(pairs: pl.DataFrame, items: pl.DataFrame, mined: pl.DataFrame, answers: pl.DataFrame | None,
                  model: TitleModel, similarity: Similarity | None = None) -> pl.DataFrame:
    """Columns a, b and `FEATURES` for each row of `pairs` (a, b; any order within a pair).

    `items` has item_id and any of title, category, brand, price; `mined` is a candidates
    `pairs` table; `answers` an extract `answers` table (pair answers are used) or None.
    """
    frame = pairs.select(pl.min_horizontal("a", "b").alias("a"), pl.max_horizontal("a", "b").alias("b"))
    frame = _with_items(frame, items)
    frame = frame.join(_co_occurrence(mined), on=["a", "b"], how="left")
    frame = frame.join(_llm(answers), on=["a", "b"], how="left")
    text = _text_similarity(frame, similarity)
    detector = VariantDetector(model)
    rows = [_title_row(detector, row, None if text is None or np.isnan(text[n]) else float(text[n]))
            for n, row in enumerate(frame.select(*(f"{c}_{s}" for c in ITEM_COLUMNS for s in "ab"))
                                    .iter_rows(named=True))]
    detected = pl.DataFrame(rows, schema={name: pl.Float64 for name in [*titles.FEATURES, *DETECTOR]},
                            orient="row")
    return pl.concat([frame, detected], how="horizontal").with_columns(
        pl.col("co_purchased").fill_null(0.0), pl.col("log_n_ab").fill_null(0.0),
        pl.col("llm_asked").fill_null(0.0)).select(
        "a", "b", *(pl.col(name).cast(pl.Float64).fill_null(np.nan) for name in FEATURES))


def _with_items(frame: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    present = [c for c in ITEM_COLUMNS if c in items.columns]
    catalog = items.select("item_id", *present).unique("item_id", keep="first").with_columns(
        [pl.lit(None, pl.Float64 if c == "price" else pl.String).alias(c)
         for c in ITEM_COLUMNS if c not in present])
    for side in "ab":
        frame = frame.join(catalog.rename({c: f"{c}_{side}" for c in ITEM_COLUMNS}),
                           left_on=side, right_on="item_id", how="left")
    price = (pl.col("price_a") / pl.col("price_b")).abs().log().abs()
    same = {c: pl.when(pl.col(f"{c}_a").is_null() | pl.col(f"{c}_b").is_null()).then(None)
            .otherwise((pl.col(f"{c}_a") == pl.col(f"{c}_b")).cast(pl.Float64))
            for c in ("category", "brand")}
    return frame.with_columns(pl.when((pl.col("price_a") > 0) & (pl.col("price_b") > 0)).then(price)
                              .otherwise(None).alias("log_price_ratio"),
                              same["category"].alias("same_category"), same["brand"].alias("same_brand"))


def _co_occurrence(mined: pl.DataFrame) -> pl.DataFrame:
    days = (pl.col("last_seen") - pl.col("first_seen")).dt.total_seconds() / 86_400
    return mined.select(
        pl.min_horizontal("item_a", "item_b").alias("a"), pl.max_horizontal("item_a", "item_b").alias("b"),
        pl.lit(1.0).alias("co_purchased"), pl.col("n_ab").cast(pl.Float64).log1p().alias("log_n_ab"),
        pl.col("lift").log().alias("log_lift"), pl.col("npmi").cast(pl.Float64),
        pl.col("confidence_ab").cast(pl.Float64), pl.col("confidence_ba").cast(pl.Float64),
        pl.max_horizontal("confidence_ab", "confidence_ba").cast(pl.Float64).alias("confidence_max"),
        days.log1p().alias("log_days_seen")).unique(["a", "b"], keep="first")


def _llm(answers: pl.DataFrame | None) -> pl.DataFrame:
    """One row per answered pair: the answer one-hot, its confidence (the latest answer wins)."""
    schema = {"a": pl.String, "b": pl.String, **{name: pl.Float64 for name in LLM}}
    if answers is None or answers.is_empty():
        return pl.DataFrame(schema=schema)
    ok = answers.filter((pl.col("task") == "pair") & (pl.col("status") == "ok")
                        & pl.col("answer_json").is_not_null())
    rows = []
    for a, b, answer_json in ok.select("item_a", "item_b", "answer_json").iter_rows():
        answer: dict[str, Any] = json.loads(answer_json)
        relation = answer.get("relation")
        rows.append((min(a, b), max(a, b), 1.0, *(float(relation == kind) for kind in
                                                  ("complement", "substitute", "variant", "unrelated")),
                     float(answer.get("confidence", np.nan))))
    return pl.DataFrame(rows, schema=schema, orient="row").unique(["a", "b"], keep="last")


def _text_similarity(frame: pl.DataFrame, similarity: Similarity | None) -> np.ndarray | None:
    """Cosine of the titles per row, NaN where either title is missing; None without a `similarity`."""
    if similarity is None or not frame.height:
        return None
    titled = frame.select(((pl.col("title_a").str.len_chars() > 0) & (pl.col("title_b").str.len_chars() > 0))
                          .fill_null(False)).to_series().to_numpy()
    text = np.full(frame.height, np.nan)
    if titled.any():
        text[titled] = similarity(frame["title_a"].filter(titled).to_list(),
                                  frame["title_b"].filter(titled).to_list())
    return text


def _title_row(detector: VariantDetector, row: dict[str, Any], text: float | None) -> list[float]:
    """The alignment features (the verdict's signals; NaN without both titles), variant score, text cosine."""
    verdict = detector.verdict({c: row[f"{c}_a"] for c in ITEM_COLUMNS},
                               {c: row[f"{c}_b"] for c in ITEM_COLUMNS}, text)
    return [*(verdict.signals.get(name, np.nan) for name in titles.FEATURES), verdict.score,
            float(verdict.complement_candidate), np.nan if text is None else text]
