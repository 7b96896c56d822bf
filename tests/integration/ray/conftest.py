"""Tests that need a local Ray cluster, started once per session (or by the test)."""

import pytest

from tests._support.markers import mark_directory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "ray")
