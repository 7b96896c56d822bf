"""The workbench's cached queue order against a real store: pages stay right while the graph moves."""

import time
from pathlib import Path

from kg.curation import QueueFilter
from kg.load import load_directory
from kg.schema import CurationStatus, RelationType
from kg.store import GraphStore
from serving.workbench.queue_order import QueueOrders
from tests._support.graph_rows import POLICY, relation_row, write_input

AB = relation_row("A", RelationType.COMPLEMENTS, "B", "run1", support=9)
AC = relation_row("A", RelationType.SUBSTITUTES, "C", "run1", support=5)
BC = relation_row("B", RelationType.COMPLEMENTS, "C", "run1", support=1)
CD = relation_row("C", RelationType.COMPLEMENTS, "D", "run2", support=20)


def _load(store: GraphStore, directory: Path, rows: list[dict[str, object]]) -> None:
    load_directory(store, write_input(directory, rows, items=["A", "B", "C", "D"]), 100, POLICY)


def _ids(rows: list[dict[str, object]]) -> list[object]:
    return [row["id"] for row in rows]


def _held(orders: QueueOrders, where: QueueFilter, after: float | None = None) -> None:
    """Wait for the background read of `where`'s order (one newer than `after`)."""
    orders.warm(where)
    deadline = time.monotonic() + 10
    while (orders.read_at(where) or 0.0) <= (after or 0.0) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert orders.read_at(where) is not None, "the order was never read"


def test_a_page_leaves_out_what_was_decided_elsewhere_and_fills_up(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path / "a", [AB, AC, BC])
    orders = QueueOrders(store, refresh_s=3600, limit=100)
    try:
        assert _ids(orders.page(QueueFilter(), 0, 2)) == [AB["id"], AC["id"]]  # not held: the statement's
        _held(orders, QueueFilter())
        assert _ids(orders.page(QueueFilter(), 0, 2)) == [AB["id"], AC["id"]]  # held: ids looked up
        store.decide({AB["id"]: 0}, CurationStatus.ACCEPTED, "bob")  # another workbench's decision
        assert _ids(orders.page(QueueFilter(), 0, 2)) == [AC["id"], BC["id"]]
        assert _ids(orders.page(QueueFilter(types=[RelationType.COMPLEMENTS]), 0, 5)) == [BC["id"]]
        assert _ids(store.queue_rows([AC["id"], BC["id"]], QueueFilter(types=[RelationType.SUBSTITUTES]))) == [
            AC["id"]]
    finally:
        orders.close()


def test_new_relations_join_at_the_next_read_and_the_cap_pages_through_the_store(
        store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path / "a", [AB, AC, BC])
    orders = QueueOrders(store, refresh_s=0.05, limit=100)
    try:
        _held(orders, QueueFilter())
        read = orders.read_at(QueueFilter())
        _load(store, tmp_path / "b", [CD])  # a pipeline run adds a relation with more support
        time.sleep(0.1)
        assert _ids(orders.page(QueueFilter(), 0, 5)) == [AB["id"], AC["id"], BC["id"]]  # the old order, served
        _held(orders, QueueFilter(), after=read)
        assert _ids(orders.page(QueueFilter(), 0, 5)) == [CD["id"], AB["id"], AC["id"], BC["id"]]
    finally:
        orders.close()
    capped = QueueOrders(store, refresh_s=3600, limit=1)
    try:
        _held(capped, QueueFilter())
        assert _ids(capped.page(QueueFilter(), 0, 3)) == [CD["id"], AB["id"], AC["id"]]
        assert _ids(capped.page(QueueFilter(), 1, 3)) == [BC["id"]]
    finally:
        capped.close()
