"""The entity layer in refine: product-type nodes, OF_TYPE edges, type relations and derived complements.

- **Types**: every item is typed (`pipelines.refine.product_types`, now with this run's IS_A concepts
  for items whose title names no frequent type); type texts are canonicalized like commonsense tails
  (`pipelines.refine.concepts.canonicalize`, kind `product_type`), so `mug` and `mugs` are one type
  and a type the graph holds keeps its id.
- **Type relations**: the extract stage's TYPE_COMPLEMENTS / TYPE_SUBSTITUTES, re-pointed at the
  canonical types (a relation between two paraphrases of one type is dropped).
- **Derived complements**: for each complementary type pair a curator has not rejected, item pairs
  (an item of each type) become COMPLEMENTS with `derived_from` = the type relation's id. Per type
  pair at most `derived_per_type_pair`, per run at most `max_derived`, ranked by a documented score:
  pairs that share baskets first (by baskets), then by the product of the items' basket counts
  (popular items first: a derived edge is worth most where traffic is); type pairs by confidence
  times their baskets. Pairs the LLM or a curator already judged item by item keep that judgement
  and are not derived. The critic, when it has a usable complement model, scores each derived
  relation (`critic_score`); a curator rejecting the type relation withdraws them all at once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import polars as pl

from kg.schema import PRODUCT_TYPE, TYPE_RELATIONS, RelationType, relation_id
from pipelines.refine.concepts import Embed, canonicalize
from pipelines.refine.config import ProductTypeRules
from pipelines.refine.critic import Critic
from pipelines.refine.features import pair_features
from pipelines.refine.product_types import assign_types
from pipelines.refine.titles import TitleModel

TYPE_RULE = "product-types"  # the `model` of OF_TYPE relations: which rule typed the item is in `rationale`
DERIVED = "derived"  # `decided_by` of derived relations: their type relation decided them


@dataclass(frozen=True)
class EntityInputs:
    """What the entity layer reads: the catalog, this run's IS_A, extracted type relations, mined pairs."""

    items: pl.DataFrame  # item_id, title, category, brand, price
    is_a: pl.DataFrame  # item_id, text: the items' canonical IS_A concept texts
    type_relations: pl.DataFrame  # extract relations of TYPE_RELATIONS (raw type ids)
    mined: pl.DataFrame  # candidates `pairs`
    judged: set[tuple[str, str]]  # (a, b), a < b: item pairs the LLM or a curator judged item by item
    rejected: set[str]  # type relation ids curators rejected
    existing: pl.DataFrame  # concepts the graph holds: id, kind, text


@dataclass(frozen=True)
class EntityLayer:
    """The entity layer's graph input and what it counts."""

    concepts: pl.DataFrame  # product types: id, text, kind, aliases
    relations: pl.DataFrame  # OF_TYPE, type relations and derived COMPLEMENTS (the `relations` columns)
    counts: dict[str, int]


def entity_layer(inputs: EntityInputs, rules: ProductTypeRules, model: TitleModel, embed: Embed,
                 similarity: float, critic: Critic | None, run_id: str) -> EntityLayer:
    """Type the items, canonicalize the types, re-point type relations, derive item complements."""
    typed = assign_types(inputs.items, model, rules, inputs.is_a)
    raw = inputs.type_relations
    asked = pl.concat([raw.select(_type_text("head")), raw.select(_type_text("tail"))])
    texts = pl.concat([typed["type_text"], asked.to_series()]).alias("text")
    tails = texts.to_frame().group_by("text").agg(pl.len().cast(pl.Int64).alias("mentions")).with_columns(
        pl.lit(PRODUCT_TYPE).alias("kind"))
    canonical = canonicalize(tails, inputs.existing, embed, similarity)
    mapping = canonical.mapping
    to_id = dict(zip(mapping["text"].to_list(), mapping["concept_id"].to_list(), strict=True))
    typed = typed.with_columns(pl.col("type_text").replace_strict(to_id).alias("type_id"))
    type_relations = _type_relations(raw, to_id)
    derived = _derived(typed, type_relations, inputs, rules, model, critic, run_id)
    relations = pl.concat([_of_type(typed, run_id), type_relations, derived], how="diagonal_relaxed")
    counts = {"product_types": typed["type_id"].n_unique(), "typed_items": typed.height,
              **{f"typed_by_{source}": n for source, n in typed["source"].value_counts().iter_rows()},
              "type_relations": type_relations.height, "derived_relations": derived.height}
    return EntityLayer(concepts=canonical.concepts, relations=relations, counts=counts)


def _type_text(column: str) -> pl.Expr:
    """The text of a product type id (`product_type:<text>`)."""
    return pl.col(column).str.split_exact(":", 1).struct.field("field_1")


def _evidence(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _of_type(typed: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """One OF_TYPE relation per typed item; its evidence is (item, type, rule), so a re-run adds none."""
    rows = [{"id": relation_id(item, RelationType.OF_TYPE, type_id), "head": item,
             "type": RelationType.OF_TYPE.value, "tail": type_id, "confidence": 1.0, "support": 1,
             "model": TYPE_RULE, "prompt_version": "n/a", "rationale": f"typed by {source}", "run_id": run_id,
             "evidence_id": _evidence(item, type_id, source)}
            for item, type_id, source in typed.select("item_id", "type_id", "source").iter_rows()]
    return pl.DataFrame(rows)


def _type_relations(raw: pl.DataFrame, to_id: dict[str, str]) -> pl.DataFrame:
    """The extracted type relations between canonical types; self-relations after merging dropped."""
    if raw.is_empty():
        return raw
    moved = raw.with_columns(*(_type_text(end).replace_strict(to_id).alias(end) for end in ("head", "tail")))
    moved = moved.filter(pl.col("head") != pl.col("tail")).with_columns(
        pl.min_horizontal("head", "tail").alias("head"), pl.max_horizontal("head", "tail").alias("tail"))
    ids = [relation_id(head, RelationType(kind), tail)
           for head, kind, tail in moved.select("head", "type", "tail").iter_rows()]
    return moved.with_columns(pl.Series("id", ids, dtype=pl.String)).unique(
        ["id", "evidence_id"], keep="first", maintain_order=True)


def _derived(typed: pl.DataFrame, type_relations: pl.DataFrame, inputs: EntityInputs, rules: ProductTypeRules,
             model: TitleModel, critic: Critic | None, run_id: str) -> pl.DataFrame:
    """Item COMPLEMENTS derived from the complementary type pairs curators have not rejected."""
    complements = type_relations.filter((pl.col("type") == RelationType.TYPE_COMPLEMENTS.value)
                                        & ~pl.col("id").is_in(list(inputs.rejected)))
    if complements.is_empty() or rules.max_derived == 0 or rules.derived_per_type_pair == 0:
        return pl.DataFrame()
    members = typed.select("item_id", "type_id")
    popularity = pl.concat([inputs.mined.select(pl.col("item_a").alias("item_id"), pl.col("n_a").alias("n")),
                            inputs.mined.select(pl.col("item_b").alias("item_id"), pl.col("n_b").alias("n"))]
                           ).group_by("item_id").agg(pl.col("n").max())
    members = members.join(popularity, on="item_id", how="left").with_columns(pl.col("n").fill_null(0))
    mined = inputs.mined.select(pl.col("item_a").alias("a"), pl.col("item_b").alias("b"), "n_ab", "lift",
                                "first_seen", "last_seen")
    judged = pl.DataFrame(list(inputs.judged), schema={"a": pl.String, "b": pl.String}, orient="row")
    chosen = []
    ordered = complements.sort(pl.col("confidence") * pl.col("support"), "id", descending=[True, False])
    for relation in ordered.iter_rows(named=True):
        pairs = _ranked_pairs(members, relation, mined, judged).head(rules.derived_per_type_pair)
        chosen.append(pairs)
        if sum(p.height for p in chosen) >= rules.max_derived:
            break
    derived = pl.concat(chosen).head(rules.max_derived)
    return _derived_relations(derived, inputs, model, critic, run_id)


def _ranked_pairs(members: pl.DataFrame, relation: dict[str, object], mined: pl.DataFrame,
                  judged: pl.DataFrame) -> pl.DataFrame:
    """Item pairs of one complementary type pair not in `judged`, with `mined` statistics, best first."""
    heads = members.filter(pl.col("type_id") == relation["head"]).select(pl.col("item_id").alias("head"),
                                                                          pl.col("n").alias("n_head"))
    tails = members.filter(pl.col("type_id") == relation["tail"]).select(pl.col("item_id").alias("tail"),
                                                                          pl.col("n").alias("n_tail"))
    # Bounded per type pair: the best `derived_per_type_pair` are kept, so only the most popular
    # items of each side can be among them; the cross join is cut to those first.
    pairs = heads.sort("n_head", descending=True).head(1000).join(
        tails.sort("n_tail", descending=True).head(1000), how="cross")
    pairs = pairs.with_columns(pl.min_horizontal("head", "tail").alias("a"),
                               pl.max_horizontal("head", "tail").alias("b"))
    return (pairs.join(judged, on=["a", "b"], how="anti").join(mined, on=["a", "b"], how="left")
            .with_columns(pl.col("n_ab").fill_null(0), pl.lit(relation["id"]).alias("derived_from"),
                          pl.lit(relation["confidence"]).alias("confidence"),
                          pl.lit(relation["model"]).alias("model"),
                          pl.lit(relation["prompt_version"]).alias("prompt_version"))
            .sort(["n_ab", pl.col("n_head") * pl.col("n_tail"), "a", "b"],
                  descending=[True, True, False, False]))


def _derived_relations(pairs: pl.DataFrame, inputs: EntityInputs, model: TitleModel, critic: Critic | None,
                       run_id: str) -> pl.DataFrame:
    """The chosen pairs as COMPLEMENTS rows, head the item of the type relation's head type."""
    scores = pl.DataFrame({"a": [], "b": [], "critic_score": []},
                          schema={"a": pl.String, "b": pl.String, "critic_score": pl.Float64})
    if critic is not None and "complement" in critic.models and pairs.height:  # a usable model only
        features = pair_features(pairs.select("a", "b"), inputs.items, inputs.mined, None, model)
        scored = critic.scores(features)
        scores = features.select("a", "b").with_columns(scored["critic_complement"].alias("critic_score"))
    pairs = pairs.join(scores, on=["a", "b"], how="left")
    ids = [relation_id(h, RelationType.COMPLEMENTS, t) for h, t in pairs.select("head", "tail").iter_rows()]
    evidence = [_evidence(h, t, d) for h, t, d in pairs.select("head", "tail", "derived_from").iter_rows()]
    return pairs.select(
        pl.Series("id", ids, dtype=pl.String), "head", pl.lit(RelationType.COMPLEMENTS.value).alias("type"),
        "tail", "confidence", pl.col("n_ab").cast(pl.Int64).alias("support"),
        pl.col("lift").cast(pl.Float64), "first_seen", "last_seen", "model", "prompt_version",
        pl.lit("derived from the product types' complement relation").alias("rationale"),
        pl.lit(run_id).alias("run_id"), pl.Series("evidence_id", evidence, dtype=pl.String),
        "derived_from", pl.lit(DERIVED).alias("decided_by"), pl.col("critic_score").cast(pl.Float64),
        pl.lit(None, pl.Float64).alias("decision_threshold"), pl.lit(None, pl.String).alias("proposed_type"))


def is_type_relation(frame: pl.DataFrame) -> pl.Series:
    """Which rows of an extract `relations` table are relations between product types."""
    return frame["type"].is_in([r.value for r in TYPE_RELATIONS])

