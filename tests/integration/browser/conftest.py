"""Tests that open pages in a real headless chromium (Debian's, see tests/_support/browser.py)."""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests._support.browser import chromium
from tests._support.markers import mark_directory

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "browser")


@pytest.fixture(scope="session")
def browser() -> Iterator["Browser"]:
    """One chromium for the session; each test opens its own page."""
    with chromium() as launched:
        yield launched
