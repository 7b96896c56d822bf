"""End-to-end tests: the `kgrec` command line as a user runs it, in subprocesses."""

import pytest

from tests._support.markers import mark_directory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "e2e")
