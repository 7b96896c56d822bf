"""The entity layer in the store: product types, OF_TYPE, type relations and the derived complements."""

from pathlib import Path

import pytest

from kg import cypher
from kg.backends.falkordb.store import FalkorDBStore
from kg.curation import QueueFilter
from kg.load import load_directory
from kg.schema import PRODUCT_TYPE, CurationStatus, RelationType, concept_id, relation_id
from kg.store import GraphStore
from tests._support.graph_rows import POLICY
from tests._support.graph_rows import relation_row as _relation
from tests._support.graph_rows import write_input as _write_input
from tests.integration.falkordb.test_graph_store import _edges

TENT, STAKES = concept_id(PRODUCT_TYPE, "tent"), concept_id(PRODUCT_TYPE, "tent stakes")
TYPE_PAIR = relation_id(TENT, RelationType.TYPE_COMPLEMENTS, STAKES)


def _entity_graph(store: GraphStore, directory: Path) -> None:
    """Two tents and a pack of stakes, typed; tents complement stakes; two complements derived from it."""
    derived = {"derived_from": TYPE_PAIR, "decided_by": "derived"}
    relations = [
        *(_relation(item, RelationType.OF_TYPE, TENT, "run1", evidence_id=f"t-{item}")
          for item in ("T1", "T2")),
        _relation("S1", RelationType.OF_TYPE, STAKES, "run1", evidence_id="t-S1"),
        _relation(TENT, RelationType.TYPE_COMPLEMENTS, STAKES, "run1"),
        _relation("T1", RelationType.COMPLEMENTS, "S1", "run1", evidence_id="d1", **derived),
        _relation("T2", RelationType.COMPLEMENTS, "S1", "run1", evidence_id="d2", **derived),
        _relation("T1", RelationType.COMPLEMENTS, "X", "run1", evidence_id="llm"),  # asked item by item
    ]
    concepts = [{"id": cid, "text": cid.split(":", 1)[1], "kind": PRODUCT_TYPE, "aliases": []}
                for cid in (TENT, STAKES)]
    source = _write_input(directory, relations, items=["T1", "T2", "S1", "X"], concepts=concepts)
    load_directory(store, source, 1, POLICY)


def _statuses(store: GraphStore, tmp: Path) -> dict[str, str]:
    edges = _edges(store, tmp)
    return dict(zip(edges["id"].to_list(), edges["status"].to_list(), strict=True))


def test_product_types_are_labelled_nodes_with_typed_items_and_relations_between_them(
        store: GraphStore, tmp_path: Path) -> None:
    _entity_graph(store, tmp_path / "in")
    labelled = store._read("MATCH (t:ProductType) RETURN t.id AS id ORDER BY id", {})
    assert [row["id"] for row in labelled] == sorted([TENT, STAKES])
    typed = store._read("MATCH (i:Item)-[:OF_TYPE]->(t:ProductType) RETURN i.id AS item, t.id AS type "
                        "ORDER BY item", {})
    assert [(row["item"], row["type"]) for row in typed] == [("S1", STAKES), ("T1", TENT), ("T2", TENT)]
    edges = _edges(store, tmp_path / "snapshot")  # the type relation is in snapshots like any other
    between = edges.filter(edges["type"] == RelationType.TYPE_COMPLEMENTS.value)
    assert between.select("head", "tail").rows() == [(TENT, STAKES)]


def test_rejecting_a_type_relation_withdraws_its_derived_relations_and_accepting_restores_them(
        store: GraphStore, tmp_path: Path) -> None:
    _entity_graph(store, tmp_path / "in")
    derived = {relation_id(tent, RelationType.COMPLEMENTS, "S1") for tent in ("T1", "T2")}
    assert {row["id"] for row in store.derived_relations([TYPE_PAIR])} == derived
    direct = relation_id("T1", RelationType.COMPLEMENTS, "X")
    store.set_status([relation_id("T2", RelationType.COMPLEMENTS, "S1")], CurationStatus.ACCEPTED, "ana")
    store.set_status([TYPE_PAIR], CurationStatus.REJECTED, "ana")
    statuses = _statuses(store, tmp_path / "s1")
    assert statuses[relation_id("T1", RelationType.COMPLEMENTS, "S1")] == CurationStatus.WITHDRAWN
    assert statuses[relation_id("T2", RelationType.COMPLEMENTS, "S1")] == CurationStatus.ACCEPTED  # ana's own
    assert statuses[direct] == CurationStatus.PROPOSED  # not derived: untouched
    queue = {row["id"] for row in store.review_queue(CurationStatus.PROPOSED, 100)}
    assert relation_id("T1", RelationType.COMPLEMENTS, "S1") not in queue and direct in queue
    # a re-run loads the same evidence again: the withdrawal stays
    (tmp_path / "in" / "_load").rename(tmp_path / "old-state")
    load_directory(store, tmp_path / "in", 1, POLICY)
    assert _statuses(store, tmp_path / "s2") == statuses
    store.set_status([TYPE_PAIR], CurationStatus.ACCEPTED, "ben")
    assert _statuses(store, tmp_path / "s3")[relation_id("T1", RelationType.COMPLEMENTS, "S1")] == \
        CurationStatus.PROPOSED


def test_the_withdrawal_is_part_of_the_rejection_in_the_history_and_an_undo_returns_it(
        store: GraphStore, tmp_path: Path) -> None:
    _entity_graph(store, tmp_path / "in")
    derived = relation_id("T1", RelationType.COMPLEMENTS, "S1")
    only_derived = QueueFilter(derived=True)
    assert {r["id"] for r in store.review_queue(CurationStatus.PROPOSED, 10, only_derived)} == {
        derived, relation_id("T2", RelationType.COMPLEMENTS, "S1")}
    assert relation_id("T1", RelationType.COMPLEMENTS, "X") in {
        r["id"] for r in store.review_queue(CurationStatus.PROPOSED, 10, QueueFilter(derived=False))}
    rejection = store.decide({TYPE_PAIR: 0}, CurationStatus.REJECTED, "ana")
    card = store.relation_card(derived)
    assert card is not None and card["relation"]["history_decision"] == [rejection.decision]
    assert card["relation"]["history_note"] == [f"derived from {TYPE_PAIR}"]
    undone = store.undo("ana")
    assert undone is not None and set(undone.ids) == {TYPE_PAIR, derived, relation_id("T2", RelationType.COMPLEMENTS,
                                                                                     "S1")}
    assert _statuses(store, tmp_path / "s")[derived] == CurationStatus.PROPOSED


def test_a_type_relation_naming_an_unknown_type_is_quarantined(store: GraphStore, tmp_path: Path) -> None:
    relations = [_relation(TENT, RelationType.TYPE_COMPLEMENTS, concept_id(PRODUCT_TYPE, "ghost"), "run1")]
    concepts = [{"id": TENT, "text": "tent", "kind": PRODUCT_TYPE, "aliases": []}]
    report = load_directory(store, _write_input(tmp_path / "in", relations, items=["T1"], concepts=concepts),
                            1, POLICY)
    assert report.relations_counted == 0 and report.quarantined == {"unknown tail": 1}
    if isinstance(store, FalkorDBStore):
        assert store._read(cypher.COUNTS, {})[0]["relations"] == 0


@pytest.mark.parametrize("relation", sorted(RelationType))
def test_every_relation_type_has_its_endpoint_labels(relation: RelationType) -> None:
    statement = cypher.upsert_relations(relation)
    assert f"MATCH (h:{cypher.head_label(relation)} " in statement
    assert f"MATCH (t:{cypher.tail_label(relation)} " in statement
