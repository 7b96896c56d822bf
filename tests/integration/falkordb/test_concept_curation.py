"""Curators merge and split concepts; the store moves the relations and later refines keep the decision."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from kg import cypher
from kg.errors import ConceptCurationError
from kg.load import load_directory
from kg.schema import PRODUCT_TYPE, CurationStatus, RelationType, concept_id, relation_id
from kg.store import GraphStore
from pipelines.refine.concepts import canonicalize, existing_concepts
from tests._support.graph_rows import POLICY
from tests._support.graph_rows import relation_row as _relation
from tests._support.graph_rows import write_input as _write_input
from tests.integration.falkordb.test_graph_store import _edges

PHOTOS, PICTURES = concept_id("function", "taking photos"), concept_id("function", "taking pictures")


def _graph(store: GraphStore, directory: Path) -> None:
    """Items A and B use a camera for 'taking photos', C for 'taking pictures'; A's phrasing varied."""
    relations = [
        _relation("A", RelationType.USED_FOR, PHOTOS, "run1", tail_text="Taking photos", evidence_id="a"),
        _relation("B", RelationType.USED_FOR, PHOTOS, "run1", tail_text="snapping pics", evidence_id="b"),
        _relation("C", RelationType.USED_FOR, PICTURES, "run1", tail_text="taking pictures", evidence_id="c"),
        _relation("A", RelationType.USED_FOR, PICTURES, "run1", tail_text="taking pictures", evidence_id="a2"),
    ]
    concepts = [{"id": PHOTOS, "text": "taking photos", "kind": "function", "aliases": ["snapping pics"]},
                {"id": PICTURES, "text": "taking pictures", "kind": "function", "aliases": []},
                {"id": concept_id("audience", "photographers"), "text": "photographers", "kind": "audience",
                 "aliases": []}]
    load_directory(store, _write_input(directory, relations, items=["A", "B", "C"], concepts=concepts), 1, POLICY)


def _concepts(store: GraphStore) -> pl.DataFrame:
    return existing_concepts([row for page in store.pages(cypher.CONCEPTS, {}) for row in page])


def _orthogonal(texts: list[str]) -> np.ndarray:
    """An embedder under which no two texts are alike: only exact texts and curators' decisions join."""
    names = sorted(set(texts))
    return np.stack([np.eye(len(names))[names.index(t)] for t in texts])


def test_a_merge_moves_the_relations_keeps_their_status_and_holds_in_later_runs(
        store: GraphStore, tmp_path: Path) -> None:
    _graph(store, tmp_path / "in")
    store.set_status([relation_id("C", RelationType.USED_FOR, PICTURES)], CurationStatus.ACCEPTED, "ana")
    assert store.merge_concepts(PHOTOS, [PICTURES], "ana") == 2
    edges = _edges(store, tmp_path / "s1")
    at = dict(zip(edges["id"].to_list(), edges["tail"].to_list(), strict=True))
    assert set(at.values()) == {PHOTOS}
    moved = relation_id("C", RelationType.USED_FOR, PHOTOS)
    assert edges.filter(pl.col("id") == moved)["status"].to_list() == ["accepted"]  # ana's decision moved too
    # A had both: one relation, its evidence counted once each
    both = edges.filter(pl.col("id") == relation_id("A", RelationType.USED_FOR, PHOTOS))
    assert both["support"].to_list() == [3 + 3]
    survivor = store._read(cypher.CONCEPT_NODES, {"ids": [PHOTOS]})[0]
    assert sorted(survivor["aliases"]) == ["snapping pics", "taking pictures"]
    snapshot_concepts = pl.read_parquet(tmp_path / "s1" / "concepts.parquet")
    assert PICTURES not in snapshot_concepts["id"].to_list()
    # a later refine: the merged text, even phrased anew, lands on the survivor
    tails = pl.DataFrame({"kind": ["function"], "text": ["taking pictures"], "mentions": [1]})
    mapping = canonicalize(tails, _concepts(store), _orthogonal, 0.85).mapping
    assert mapping["concept_id"].to_list() == [PHOTOS]


def test_a_split_makes_an_alias_a_concept_of_its_own_that_later_runs_keep_apart(
        store: GraphStore, tmp_path: Path) -> None:
    _graph(store, tmp_path / "in")
    new_id, moved = store.split_concept(PHOTOS, "Snapping pics", "ben")
    assert (new_id, moved) == (concept_id("function", "snapping pics"), 1)
    edges = _edges(store, tmp_path / "s1")
    assert edges.filter(pl.col("tail") == new_id)["head"].to_list() == ["B"]
    assert store._read(cypher.CONCEPT_NODES, {"ids": [PHOTOS]})[0]["aliases"] == []
    # even an embedder calling the two the same leaves them apart: both are concepts the graph holds
    same = lambda texts: np.ones((len(texts), 1))  # noqa: E731
    tails = pl.DataFrame({"kind": ["function", "function"], "text": ["snapping pics", "taking photos"],
                          "mentions": [1, 1]})
    mapping = canonicalize(tails, _concepts(store), same, 0.85).mapping.sort("text")
    assert mapping["concept_id"].to_list() == [new_id, PHOTOS]


def test_bad_merges_and_splits_change_nothing(store: GraphStore, tmp_path: Path) -> None:
    _graph(store, tmp_path / "in")
    before = _edges(store, tmp_path / "s0")
    for bad in (lambda: store.merge_concepts(PHOTOS, ["function:nothing"], "x"),
                lambda: store.merge_concepts(PHOTOS, [concept_id("audience", "photographers")], "x"),
                lambda: store.merge_concepts(PHOTOS, [PHOTOS], "x"),
                lambda: store.split_concept(PHOTOS, "not an alias", "x"),
                lambda: store.split_concept("function:nothing", "x", "x")):
        with pytest.raises(ConceptCurationError):
            bad()
    assert _edges(store, tmp_path / "s1").equals(before)


def test_merging_product_types_moves_their_type_relations_and_the_derived_edges_follow(
        store: GraphStore, tmp_path: Path) -> None:
    mug, mugs, tea = (concept_id(PRODUCT_TYPE, t) for t in ("mug", "mugs", "tea"))
    old_pair = relation_id(mugs, RelationType.TYPE_COMPLEMENTS, tea)
    relations = [_relation("M", RelationType.OF_TYPE, mugs, "run1", evidence_id="m"),
                 _relation("T", RelationType.OF_TYPE, tea, "run1", evidence_id="t"),
                 _relation(mugs, RelationType.TYPE_COMPLEMENTS, tea, "run1", evidence_id="p"),
                 _relation("M", RelationType.COMPLEMENTS, "T", "run1", evidence_id="d", derived_from=old_pair)]
    concepts = [{"id": c, "text": c.split(":", 1)[1], "kind": PRODUCT_TYPE, "aliases": []} for c in (mug, mugs, tea)]
    load_directory(store, _write_input(tmp_path / "in", relations, items=["M", "T"], concepts=concepts), 1, POLICY)
    store.merge_concepts(mug, [mugs], "ana")
    new_pair = relation_id(mug, RelationType.TYPE_COMPLEMENTS, tea)
    assert [row["id"] for row in store.derived_relations([new_pair])] == [relation_id("M", RelationType.COMPLEMENTS, "T")]
    store.set_status([new_pair], CurationStatus.REJECTED, "ana")
    edges = _edges(store, tmp_path / "s1")
    assert edges.filter(pl.col("type") == "COMPLEMENTS")["status"].to_list() == ["withdrawn"]
