"""Curation through the store: history, versions, relabel, undo, the queue's filters, status at a past time."""

import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from kg.curation import QueueFilter
from kg.errors import StaleRelationError, UnknownRelationError
from kg.load import load_directory
from kg.schema import CurationStatus, RelationType, relation_id
from kg.snapshot import write_snapshot
from kg.store import GraphStore
from tests._support.graph_rows import HOSTILE, POLICY, relation_row, write_input

AB = relation_row("A", RelationType.COMPLEMENTS, "B", "run1", support=9)
AC = relation_row("A", RelationType.SUBSTITUTES, "C", "run1", support=5, model="rule-x", confidence=0.3)
BC = relation_row("B", RelationType.COMPLEMENTS, "C", "run1", support=1)


def _load(store: GraphStore, directory: Path, run: str = "run1") -> None:
    rows = [{**r, "run_id": run, "evidence_id": f"ev-{run}"} for r in (AB, AC, BC)]
    load_directory(store, write_input(directory, rows, items=["A", "B", "C"]), 100, POLICY)


def _status(store: GraphStore) -> dict[str, str]:
    return {r["id"]: r["status"] for s in CurationStatus for r in store.review_queue(s, 100)}


def test_decisions_keep_history_and_a_stale_version_is_refused(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path / "a")
    queue = store.review_queue(CurationStatus.PROPOSED, 10)
    assert [r["id"] for r in queue] == [AB["id"], AC["id"], BC["id"]] and {r["version"] for r in queue} == {0}
    done = store.decide({AB["id"]: 0}, CurationStatus.ACCEPTED, "ann")
    assert done.ids == [AB["id"]]
    with pytest.raises(StaleRelationError, match="seen at version 0, now 1"):
        store.decide({AB["id"]: 0}, CurationStatus.REJECTED, "bob")  # bob's page predates ann's decision
    with pytest.raises(UnknownRelationError):
        store.decide({"COMPLEMENTS:nothing": 0, BC["id"]: 0}, CurationStatus.REJECTED, "bob")
    assert _status(store)[BC["id"]] == "proposed"  # nothing of a refused decision is written
    store.decide({AB["id"]: 1}, CurationStatus.REJECTED, "bob")
    card = store.relation_card(AB["id"])
    assert card is not None and card["head"]["title"] == HOSTILE and card["tail"]["id"] == "B"
    assert card["relation"]["history_status"] == ["accepted", "rejected"]
    assert card["relation"]["history_by"] == ["ann", "bob"]
    _load(store, tmp_path / "b", "run2")  # a re-run of the pipeline
    assert _status(store)[AB["id"]] == "rejected"
    assert store.relation_card(AB["id"])["relation"]["history_by"] == ["ann", "bob"]  # type: ignore[index]


def test_relabel_is_one_decision_that_a_reload_and_an_undo_respect(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path / "a")
    receipt = store.relabel(AB["id"], 0, RelationType.VARIANT_OF, "ann")
    variant = relation_id("A", RelationType.VARIANT_OF, "B")
    assert receipt.ids == [AB["id"], variant]
    card = store.relation_card(variant)
    assert card is not None
    relation = card["relation"]
    assert (relation["status"], relation["support"], relation["proposed_type"]) == ("accepted", 9, "COMPLEMENTS")
    assert relation["history_decision"] == store.relation_card(AB["id"])["relation"]["history_decision"][-1:]  # type: ignore[index]
    _load(store, tmp_path / "b", "run2")  # the old type is proposed again by the next run: it stays rejected
    assert _status(store) == {AB["id"]: "rejected", variant: "accepted", AC["id"]: "proposed",
                              BC["id"]: "proposed"}
    assert store.undo("ann") == receipt.model_copy(update={"ids": sorted(receipt.ids)})
    assert _status(store) == {AB["id"]: "proposed", AC["id"]: "proposed", BC["id"]: "proposed"}
    assert store.undo("ann") is None  # an undo is not undone by the next one


def test_undo_restores_the_status_before_the_curators_last_decision(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path / "a")
    store.decide({AB["id"]: 0}, CurationStatus.ACCEPTED, "ann")
    time.sleep(0.01)
    bulk = store.decide({AC["id"]: 0, BC["id"]: 0}, CurationStatus.REJECTED, "ann")
    store.decide({AB["id"]: 1}, CurationStatus.REJECTED, "bob")
    assert store.undo("ann") == bulk.model_copy(update={"ids": sorted(bulk.ids)})  # ann's last: the bulk rejection, not bob's
    assert _status(store) == {AB["id"]: "rejected", AC["id"]: "proposed", BC["id"]: "proposed"}
    assert store.relation_card(AC["id"])["relation"]["history_note"][-1] == f"undo {bulk.decision}"  # type: ignore[index]
    assert store.undo("ann") is None  # her accept of AB is not the latest there: bob rejected it since
    assert store.undo("bob").ids == [AB["id"]]  # type: ignore[union-attr]
    assert _status(store)[AB["id"]] == "accepted"  # the status before bob's decision


def test_the_queue_filters_pages_and_counts(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path / "a")
    proposed = CurationStatus.PROPOSED

    def ids(where: QueueFilter, offset: int = 0, limit: int = 10) -> list[str]:
        return [r["id"] for r in store.review_queue(proposed, limit, where, offset)]

    assert ids(QueueFilter(types=[RelationType.COMPLEMENTS])) == [AB["id"], BC["id"]]
    assert ids(QueueFilter(model="rule-x")) == [AC["id"]]
    assert ids(QueueFilter(max_score=0.5)) == [AC["id"]]  # no critic yet: the proposer's confidence
    assert ids(QueueFilter(search="TITLE c")) == [AC["id"], BC["id"]]
    assert ids(QueueFilter(search="tent \"pro\"")) == [AB["id"], AC["id"]]  # A's hostile title, as text
    assert ids(QueueFilter(), offset=1, limit=1) == [AC["id"]]
    where = QueueFilter(types=[RelationType.COMPLEMENTS])
    assert store.queue_count(where) == 2
    assert store.queue_members(where) == sorted([{"id": AB["id"], "version": 0}, {"id": BC["id"], "version": 0}],
                                                key=lambda r: r["id"])
    assert store.sources() == ["rule-x", "test-model"]
    by_type, by_curator = store.progress()
    assert {(r["type"], r["status"], r["relations"]) for r in by_type} == {
        ("COMPLEMENTS", "proposed", 2), ("SUBSTITUTES", "proposed", 1)}
    assert by_curator == []
    outgoing = store.neighbourhood("B", 10)
    assert {(r["id"], r["outgoing"], r["other"]) for r in outgoing} == {(AB["id"], False, "A"), (BC["id"], True, "C")}


def test_a_snapshot_gives_the_status_at_a_past_time_from_the_history(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path / "a")
    store.decide({AB["id"]: 0}, CurationStatus.ACCEPTED, "ann")
    time.sleep(0.02)
    between = datetime.now(UTC)
    time.sleep(0.02)
    store.decide({AB["id"]: 1}, CurationStatus.REJECTED, "ann")

    def statuses(at: datetime, name: str) -> dict[str, str]:
        write_snapshot(store, at, list(CurationStatus), tmp_path / name)
        return dict(pl.read_parquet(tmp_path / name / "relations.parquet").select("id", "status").iter_rows())

    assert statuses(between, "then")[AB["id"]] == "accepted"
    assert statuses(datetime.now(UTC), "now")[AB["id"]] == "rejected"
    manifest = write_snapshot(store, between, [CurationStatus.REJECTED], tmp_path / "rejected-then")
    assert manifest["relations"] == 0
