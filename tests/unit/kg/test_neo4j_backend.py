"""The Neo4j backend as far as it runs without a server: what it sends through the driver.

A real Neo4j runs the same code in tests/integration/falkordb/test_graph_store.py when NEO4J_URI is set.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import neo4j
import pyarrow as pa
import pytest

from kg import cypher
from kg.backends.neo4j import Neo4jStore
from kg.errors import UnknownRelationError
from kg.schema import CurationStatus, Relation, RelationType, relation_id
from kg.store import RELATION_ROWS, relation_params


class FakeRecord:
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def data(self) -> dict[str, Any]:
        return self._data


class FakeSession:
    """Records (mode, query, params); answers with canned rows."""

    def __init__(self, log: list[tuple[str, str, dict[str, Any]]], answer: Callable[[str], list[dict[str, Any]]]):
        self.log, self.answer = log, answer

    def _tx(self, mode: str) -> Any:
        session = self

        class Tx:
            def run(self, query: str, params: dict[str, Any]) -> list[FakeRecord]:
                session.log.append((mode, query, params))
                return [FakeRecord(row) for row in session.answer(query)]

        return Tx()

    def execute_write(self, work: Callable[[Any], Any]) -> Any:
        return work(self._tx("write"))

    def execute_read(self, work: Callable[[Any], Any]) -> Any:
        return work(self._tx("read"))


class FakeDriver:
    def __init__(self, answer: Callable[[str], list[dict[str, Any]]]) -> None:
        self.log: list[tuple[str, str, dict[str, Any]]] = []
        self.databases: list[str] = []
        self.answer = answer

    @contextmanager
    def session(self, database: str) -> Iterator[FakeSession]:
        self.databases.append(database)
        yield FakeSession(self.log, self.answer)


def _store(answer: Callable[[str], list[dict[str, Any]]] = lambda q: []) -> tuple[Neo4jStore, FakeDriver]:
    store = Neo4jStore("neo4j://example:7687", "neo4j", "secret", database="kg")
    driver = FakeDriver(answer)
    store._driver = driver
    return store, driver


def test_relation_batches_go_through_managed_write_transactions() -> None:
    store, driver = _store(lambda q: [{"matched": 2, "written": 2}])
    relations = [Relation(id=f"r{n}", head="a", type=RelationType.COMPLEMENTS, tail=tail, confidence=0.5,
                          support=1, first_seen=datetime(2026, 1, 1, tzinfo=UTC), model="m", prompt_version="p1",
                          run_id="run", evidence_id="e") for n, tail in enumerate("bc")]
    relations[0] = relations[0].model_copy(update={"decided_by": "critic-1", "critic_score": 0.75,
                                                   "decision_threshold": 0.5, "proposed_type": "SUBSTITUTES"})
    rows = pa.Table.from_pylist([{**r.model_dump(), "type": r.type.value} for r in relations], schema=RELATION_ROWS)
    assert store.upsert_relations(RelationType.COMPLEMENTS, relation_params(rows)) == (2, 2)
    mode, query, params = driver.log[0]
    assert mode == "write" and query == cypher.upsert_relations(RelationType.COMPLEMENTS)
    assert params["rows"][1] == {"id": "r1", "head": "a", "tail": "c", "confidence": 0.5, "support": 1,
                                 "first_seen": 1767225600000, "model": "m", "prompt_version": "p1",
                                 "run_id": "run", "evidence_id": "e"}  # nulls left out, times in ms
    assert {k: params["rows"][0][k] for k in cypher.DECISION_FIELDS} == {
        "decided_by": "critic-1", "critic_score": 0.75, "decision_threshold": 0.5, "proposed_type": "SUBSTITUTES"}
    assert isinstance(params["now"], int)
    assert driver.databases == ["kg"]


def test_set_status_checks_ids_first_and_changes_nothing_when_one_is_unknown() -> None:
    known = relation_id("a", RelationType.COMPLEMENTS, "b")
    state = {"id": known, "head": "a", "tail": "b", "status": "proposed", "version": 0, "history_status": None,
             "history_decision": None, "relabelled_from": None}
    store, driver = _store(lambda q: [state] if "AS relabelled_from" in q else [{"id": known}])
    with pytest.raises(UnknownRelationError):
        store.set_status([known, "COMPLEMENTS:unknown"], CurationStatus.REJECTED, "ann")
    assert [mode for mode, _, _ in driver.log] == ["read"]
    assert store.set_status([known], CurationStatus.ACCEPTED, "ann") == [known]
    mode, query, params = driver.log[-1]
    assert mode == "write" and query == cypher.set_status(RelationType.COMPLEMENTS)
    assert params["by"] == "ann" and len(params["decision"]) == 32
    assert params["rows"] == [{"id": known, "status": "accepted", "version": None, "note": "cli"}]


def test_transient_errors_are_the_retryable_ones() -> None:
    store, _ = _store()
    assert store.is_transient(neo4j.exceptions.ServiceUnavailable("gone"))
    assert store.is_transient(neo4j.exceptions.TransientError("deadlock"))
    assert not store.is_transient(neo4j.exceptions.ClientError("syntax"))
    assert not store.is_transient(ValueError("bug"))


def test_unreachable_server_is_a_clear_error() -> None:
    from kg.errors import StoreUnavailable

    store = Neo4jStore("bolt://127.0.0.1:1", "neo4j", "x")
    with pytest.raises(StoreUnavailable, match="Neo4j bolt://127.0.0.1:1"):
        store.connect()
    store.close()
