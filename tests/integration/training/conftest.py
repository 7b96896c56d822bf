"""Tests that train models or make large data: no service, but minutes of CPU, so not unit tests."""

import pytest

from tests._support.markers import mark_directory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "training")
