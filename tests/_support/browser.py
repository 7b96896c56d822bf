"""Debian's chromium, headless, driven by playwright: a real browser without a browser download.

`scripts/setup.sh dev` installs both (apt-get's chromium, playwright from the dev extra). Where
either is missing the browser tests skip loudly, except under CI (`CI` set), which runs that
setup first: there a missing browser is a broken setup, and the tests fail instead of passing
silently. Never `playwright install`: it downloads a browser build of its own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def _missing() -> str | None:
    """What of the browser stack is not installed, or None."""
    if shutil.which("chromium") is None:
        return "Debian's chromium is not installed"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless chromium for the duration of the block (skips or fails where there is none)."""
    missing = _missing()
    if missing is not None:
        message = f"{missing}; `scripts/setup.sh dev` installs chromium (apt-get) and playwright"
        if os.environ.get("CI"):
            pytest.fail(f"{message}. CI runs that setup, so this is a broken setup, not a skip.")
        pytest.skip(f"SKIPPED LOUDLY: {message}. The browser tests did not run.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
