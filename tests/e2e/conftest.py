"""End-to-end tests: the `kgrec` command line as a user runs it, in subprocesses."""

import pytest

from tests._support.markers import mark_directory
from tests._support.shared_runs import SharedRun, run_scripted, run_synthetic


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "e2e")


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory: pytest.TempPathFactory) -> SharedRun:
    """The shared synthetic run with the local LLM (tests._support.shared_runs.py)."""
    return run_synthetic(tmp_path_factory.mktemp("synthetic_run"))


@pytest.fixture(scope="session")
def scripted_run(tmp_path_factory: pytest.TempPathFactory) -> SharedRun:
    """The shared run the curation tests start from; copy its graph with `copy_of`."""
    return run_scripted(tmp_path_factory.mktemp("scripted_run"))
