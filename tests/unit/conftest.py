"""Unit tests: no service, no cluster, no model training; `pytest tests/unit` runs in under a minute."""

import pytest

from tests._support.markers import mark_directory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "unit")
