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


@pytest.fixture(scope="module")
def browser() -> Iterator["Browser"]:
    """One chromium per test module; each test opens its own page.

    Not per session: while Playwright's sync API is open it holds an event loop running in the
    main thread, and every later test that calls `asyncio.run` (HTTP clients, the Redis cache)
    would fail with "cannot be called from a running event loop".
    """
    with chromium() as launched:
        yield launched
