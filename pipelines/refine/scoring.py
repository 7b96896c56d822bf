"""The critic's scores for the pairs the extract stage answered, as a Ray Data stage.

Scoring is the refine stage's heavy part (a sentence embedding per title, the title alignment,
the critic), so it streams through Ray Data in batches on actors that each load the encoder
once. What every batch needs to look up — the items, the mined statistics of the queued pairs
and the fitted `TitleModel` — is put in the object store once and read by reference; all three
are bounded by the catalog or the LLM budget, never by the events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from pipelines.outputs import write_dataset
from pipelines.refine.critic import Critic
from pipelines.refine.features import ITEM_COLUMNS, Similarity, pair_features
from pipelines.refine.titles import TitleModel

log = logging.getLogger("kgrec")

# Builds the text similarity inside a worker (the encoder is loaded there, once per actor).
SimilarityFactory = Callable[[], Similarity]
ANSWER_COLUMNS = ["item_a", "item_b", "task", "status", "answer_json"]


class PairScorer:
    """Ray Data UDF: answer rows of one batch -> a, b and the critic's `critic_<kind>` scores."""

    def __init__(self, critic: Critic, items: Any, mined: Any, titles: Any,
                 similarity: SimilarityFactory | None) -> None:
        import ray

        self.critic = critic
        self.items: pl.DataFrame = ray.get(items)
        self.mined: pl.DataFrame = ray.get(mined)
        self.titles: TitleModel = ray.get(titles)
        self.similarity = similarity() if similarity is not None else None

    def __call__(self, batch: pa.Table) -> pa.Table:
        """The batch's distinct pairs with their features' variant score and the critic's scores."""
        answers = pl.from_arrow(batch)
        assert isinstance(answers, pl.DataFrame)
        pairs = answers.select(pl.col("item_a").alias("a"), pl.col("item_b").alias("b")).unique(
            maintain_order=True)
        features = pair_features(pairs, self.items, self.mined, answers, self.titles, self.similarity)
        scores = self.critic.scores(features) if features.height else pl.DataFrame()
        return pl.concat([features.select("a", "b", "variant_score", "llm_asked"), scores],
                         how="horizontal").to_arrow()


def score_pairs(answers_dir: Path, items: pl.DataFrame, mined: pl.DataFrame, critic: Critic,
                similarity: SimilarityFactory | None, out_dir: Path, workers: int, batch_size: int) -> int:
    """Score every ok pair answer under `answers_dir` into `out_dir`; return the rows written."""
    import ray
    import ray.data
    from ray.data.expressions import col

    catalog = items.select("item_id", *(c for c in ITEM_COLUMNS if c in items.columns))
    refs = {"items": ray.put(catalog), "mined": ray.put(mined),
            "titles": ray.put(TitleModel.fit(catalog["title"].to_list()))}
    answers = ray.data.read_parquet(str(answers_dir), columns=ANSWER_COLUMNS).filter(
        expr=(col("task") == "pair") & (col("status") == "ok"))
    scored = answers.map_batches(
        PairScorer,
        fn_constructor_kwargs={"critic": critic, "similarity": similarity, **refs},
        compute=ray.data.ActorPoolStrategy(size=workers), batch_size=batch_size, batch_format="pyarrow")
    rows = write_dataset(scored, out_dir)
    log.info("refine: %d answered pairs scored by %s", rows, critic.manifest.version)
    return rows
