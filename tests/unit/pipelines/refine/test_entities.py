"""The entity layer: OF_TYPE edges, type relations on canonical types, and derived item complements."""

from datetime import UTC, datetime

import numpy as np
import polars as pl

from kg.schema import PRODUCT_TYPE, RelationType, concept_id, relation_id
from pipelines.refine.config import ProductTypeRules
from pipelines.refine.entities import DERIVED, EntityInputs, entity_layer
from pipelines.refine.titles import TitleModel

TENT, STAKES = concept_id(PRODUCT_TYPE, "dome tent"), concept_id(PRODUCT_TYPE, "tent stakes")
ITEMS = pl.DataFrame({
    "item_id": ["T1", "T2", "T3", "S1", "S2"],
    "title": ["Alto Dome Tent, Small", "Alto Dome Tent, Large", "Pace Dome Tent, Small",
              "Alto Tent Stakes, Pack of 10", "Pace Tent Stakes, Pack of 25"],
    "category": [None] * 5, "brand": ["Alto", "Alto", "Pace", "Alto", "Pace"], "price": [90.0, 120.0, 80.0, 9.0, 14.0],
}, schema_overrides={"category": pl.String})
MINED = pl.DataFrame({"item_a": ["S1", "S2", "S1"], "item_b": ["T1", "T2", "T3"], "n_ab": [5, 1, 2],
                      "n_a": [9, 4, 9], "n_b": [7, 3, 2], "lift": [3.0, 1.5, 2.0], "npmi": [0.3, 0.1, 0.2],
                      "confidence_ab": [0.5, 0.2, 0.2], "confidence_ba": [0.7, 0.3, 1.0],
                      "first_seen": [datetime(2026, 1, 1, tzinfo=UTC)] * 3,
                      "last_seen": [datetime(2026, 2, 1, tzinfo=UTC)] * 3})
RULES = ProductTypeRules(min_items=2, derived_per_type_pair=10)


def _embed(texts: list[str]) -> np.ndarray:
    """Every distinct text its own direction, except the plural `dome tents`, a paraphrase of `dome tent`."""
    names = sorted({t.removesuffix("s") if t == "dome tents" else t for t in texts})
    vectors = np.eye(len(names))
    return np.stack([vectors[names.index(t.removesuffix("s") if t == "dome tents" else t)] for t in texts])


def _type_relation(head: str, tail: str, kind: RelationType = RelationType.TYPE_COMPLEMENTS) -> dict[str, object]:
    """A type relation as the extract stage writes it: ends ordered by id."""
    head, tail = min(head, tail), max(head, tail)
    return {"id": relation_id(head, kind, tail), "head": head, "type": kind.value, "tail": tail,
            "confidence": 0.9, "support": 8, "model": "llm-x", "prompt_version": "type_pair.v1",
            "rationale": "used together", "run_id": "r1", "evidence_id": f"{head}-{tail}"}


def _layer(type_relations: list[dict[str, object]], *, rejected: frozenset[str] = frozenset(),
           judged: frozenset[tuple[str, str]] = frozenset(), rules: ProductTypeRules = RULES):
    inputs = EntityInputs(items=ITEMS, is_a=pl.DataFrame(schema={"item_id": pl.String, "text": pl.String}),
                          type_relations=pl.DataFrame(type_relations), mined=MINED, judged=set(judged),
                          rejected=set(rejected),
                          existing=pl.DataFrame(schema={"id": pl.String, "kind": pl.String, "text": pl.String}))
    return entity_layer(inputs, rules, TitleModel.fit(ITEMS["title"].to_list()), _embed, 0.85, None, "r2")


def test_items_are_typed_and_the_types_are_concepts() -> None:
    layer = _layer([_type_relation(TENT, STAKES)])
    of_type = layer.relations.filter(pl.col("type") == RelationType.OF_TYPE.value)
    assert dict(of_type.select("head", "tail").iter_rows()) == {"T1": TENT, "T2": TENT, "T3": TENT,
                                                                 "S1": STAKES, "S2": STAKES}
    assert sorted(layer.concepts["id"].to_list()) == sorted([TENT, STAKES])
    assert set(layer.concepts["kind"].to_list()) == {PRODUCT_TYPE}
    assert layer.counts["product_types"] == 2 and layer.counts["typed_items"] == 5


def test_complements_are_derived_co_purchased_first_each_pointing_at_its_type_relation() -> None:
    source = _type_relation(TENT, STAKES)
    layer = _layer([source], judged=frozenset({("S1", "T3")}))  # the LLM judged this pair itself
    derived = layer.relations.filter(pl.col("derived_from").is_not_null())
    assert set(derived["derived_from"].to_list()) == {source["id"]}
    assert set(derived["type"].to_list()) == {RelationType.COMPLEMENTS.value}
    assert set(derived["decided_by"].to_list()) == {DERIVED}
    pairs = [tuple(sorted(p)) for p in derived.select("head", "tail").iter_rows()]
    assert ("S1", "T3") not in pairs and len(pairs) == 2 * 3 - 1
    assert pairs[:2] == [("S1", "T1"), ("S2", "T2")]  # by shared baskets, then the never co-purchased
    assert derived["support"].to_list()[:2] == [5, 1] and derived["support"].to_list()[2:] == [0, 0, 0]
    # heads are items of the type relation's head type; the evidence is the same in every run
    assert set(derived["head"].to_list()) <= {"T1", "T2", "T3"}
    again = _layer([source], judged=frozenset({("S1", "T3")})).relations.filter(
        pl.col("derived_from").is_not_null())
    assert again["evidence_id"].to_list() == derived["evidence_id"].to_list()


def test_a_rejected_type_relation_derives_nothing_and_budgets_cap_the_rest() -> None:
    source = _type_relation(TENT, STAKES)
    assert _layer([source], rejected=frozenset({str(source["id"])})).counts["derived_relations"] == 0
    capped = _layer([source], rules=ProductTypeRules(min_items=2, derived_per_type_pair=2))
    assert capped.counts["derived_relations"] == 2
    assert _layer([source], rules=ProductTypeRules(min_items=2, max_derived=0)).counts["derived_relations"] == 0


def test_type_relations_point_at_canonical_types_and_paraphrases_are_no_pair() -> None:
    plural = concept_id(PRODUCT_TYPE, "dome tents")  # what the extract stage may have asked about
    layer = _layer([_type_relation(STAKES, plural), _type_relation(TENT, plural, RelationType.TYPE_SUBSTITUTES)])
    between = layer.relations.filter(pl.col("type").is_in(["TYPE_COMPLEMENTS", "TYPE_SUBSTITUTES"]))
    assert between.select("type", "head", "tail").rows() == [("TYPE_COMPLEMENTS", TENT, STAKES)]
    assert between["id"].to_list() == [relation_id(TENT, RelationType.TYPE_COMPLEMENTS, STAKES)]
