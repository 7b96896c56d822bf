"""What `kgrec refine` does with each extracted item-item relation, given the critic's scores.

The rule, in order, per relation (COMPLEMENTS, SUBSTITUTES, VARIANT_OF):

1. A relation a curator decided (accepted or rejected) is passed through as proposed:
   `decided_by` 'curator'. The store keeps the curator's status whatever a load brings.
2. A pair the proposer called a complement or substitute whose critic variant score is at least
   `relabel_threshold` becomes `VARIANT_OF` (unordered), with the proposer's type kept in
   `proposed_type` and its confidence and rationale kept as they were: both opinions recorded.
3. A relation of a kind the critic has no usable model for (too few labels, a cross-validated
   precision below `min_precision`, or no critic at all) is kept as proposed, `decided_by` the
   proposer's model or rule: nothing acts on a guess.
4. Otherwise the critic decides: kept when its score for the relation's kind is at least
   `threshold`, dropped below it (dropped rows are written aside with their scores, not lost).

Every kept relation carries the deciding score and threshold. The work is a join and column
expressions over relations bounded by the LLM budget; only relabelled ids are computed row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kg.schema import RelationType, relation_id
from pipelines.refine.critic import KindReport
from pipelines.refine.labels import RELATION_KINDS

CURATOR = "curator"
VARIANT = RelationType.VARIANT_OF.value
SCORE_COLUMNS = [f"critic_{kind}" for kind in RELATION_KINDS.values()]
DECISION_COLUMNS = ["decided_by", "critic_score", "decision_threshold", "proposed_type"]


@dataclass(frozen=True)
class DecisionPolicy:
    """The thresholds of the rule above, and the critic whose scores it reads (None: no critic)."""

    threshold: float
    relabel_threshold: float
    critic_version: str | None


@dataclass(frozen=True)
class Decided:
    """The outcome: relations to load (with their decision columns) and those dropped."""

    kept: pl.DataFrame
    dropped: pl.DataFrame


def usable_scores(scores: pl.DataFrame, kinds: list[KindReport], min_precision: float) -> pl.DataFrame:
    """`scores` without the columns of kinds whose cross-validated precision is below `min_precision`.

    Such a kind was trained (it had enough labels) but would drop relations on a coin toss or
    worse; its scores stay in `scores/` for a reader, its relations are kept as proposed.
    """
    weak = [f"critic_{k.kind}" for k in kinds if k.trained and (k.precision or 0.0) < min_precision]
    return scores.drop([name for name in weak if name in scores.columns])


def decide(relations: pl.DataFrame, scores: pl.DataFrame, curated: set[str],
           policy: DecisionPolicy) -> Decided:
    """Apply the rule to `relations` (the `relations` table, item-item types only).

    `scores` has a, b (a < b) and a `critic_<kind>` column per trained kind (absent or null:
    untrained); `curated` holds the ids of relations curators decided.
    """
    frame = relations.with_columns(pl.min_horizontal("head", "tail").alias("a"),
                                   pl.max_horizontal("head", "tail").alias("b"))
    frame = frame.join(_complete(scores), on=["a", "b"], how="left")
    own = pl.col("type").replace_strict({t: f"critic_{k}" for t, k in RELATION_KINDS.items()})
    own_score = pl.coalesce(*(pl.when(own == name).then(pl.col(name)) for name in SCORE_COLUMNS))
    frame = frame.with_columns(own_score.alias("own_score"),
                               pl.col("id").is_in(list(curated)).alias("curated"))
    relabel = (~pl.col("curated") & (pl.col("type") != VARIANT)
               & (pl.col("critic_variant") >= policy.relabel_threshold)).fill_null(False)
    untrained = pl.col("own_score").is_null()
    keep = pl.col("curated") | relabel | untrained | (pl.col("own_score") >= policy.threshold)
    decided_by = (pl.when(pl.col("curated")).then(pl.lit(CURATOR))
                  .when(relabel | ~untrained).then(pl.lit(policy.critic_version))
                  .otherwise(pl.col("model")))
    frame = frame.with_columns(
        relabel.alias("relabel"), keep.alias("keep"), decided_by.alias("decided_by"),
        pl.when(relabel).then(pl.col("critic_variant")).otherwise(pl.col("own_score")).alias("critic_score"),
        pl.when(pl.col("curated") | (untrained & ~relabel)).then(None)
        .when(relabel).then(pl.lit(policy.relabel_threshold))
        .otherwise(pl.lit(policy.threshold)).cast(pl.Float64).alias("decision_threshold"),
        pl.when(relabel).then(pl.col("type")).otherwise(None).alias("proposed_type"))
    columns = [*relations.columns, *(name for name in DECISION_COLUMNS if name not in relations.columns)]
    kept = _relabelled(frame.filter(pl.col("keep")))
    return Decided(kept=kept.select(columns).unique(["id", "evidence_id"], keep="first", maintain_order=True),
                   dropped=frame.filter(~pl.col("keep")).select(*columns, *SCORE_COLUMNS))


def _complete(scores: pl.DataFrame) -> pl.DataFrame:
    """`scores` with every kind's column (null for untrained kinds), one row per pair."""
    missing = [pl.lit(None, pl.Float64).alias(name) for name in SCORE_COLUMNS
               if name not in scores.columns]
    return scores.with_columns(missing).select("a", "b", *SCORE_COLUMNS).unique(["a", "b"], keep="first")


def _relabelled(frame: pl.DataFrame) -> pl.DataFrame:
    """Relabelled rows as unordered `VARIANT_OF` (a, b) with their new ids; the others as they are."""
    moved = frame.filter(pl.col("relabel"))
    ids = [relation_id(a, RelationType.VARIANT_OF, b) for a, b in moved.select("a", "b").iter_rows()]
    moved = moved.with_columns(pl.Series("id", ids, dtype=pl.String), pl.col("a").alias("head"),
                               pl.col("b").alias("tail"), pl.lit(VARIANT).alias("type"))
    return pl.concat([frame.filter(~pl.col("relabel")), moved.select(frame.columns)])
