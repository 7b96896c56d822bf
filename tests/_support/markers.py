"""Markers set by directory: each test folder's conftest marks what is collected beneath it.

A test is marked for where it lives, never by hand, so `-m "not integration"` and the
per-service selections (`-m redis`, `-m "not llm"`) are right by construction. Tests in an
integration folder that also ask for another service's fixture get that service's marker too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Fixture -> the marker of the service it starts (tests/_support/services.py).
SERVICE_FIXTURES = {"ray_cluster": "ray", "falkordb_url": "falkordb", "redis_url": "redis"}


def mark_directory(items: list[pytest.Item], conftest: str, *names: str) -> None:
    """Add the markers `names` to every collected item under the folder of `conftest`."""
    folder = Path(conftest).parent
    for item in items:
        if item.path.is_relative_to(folder):
            for name in names:
                item.add_marker(getattr(pytest.mark, name))


def mark_services(items: list[pytest.Item], conftest: str) -> None:
    """Mark items under `conftest`'s folder with the service of each service fixture they use."""
    folder = Path(conftest).parent
    for item in items:
        if item.path.is_relative_to(folder):
            for fixture, name in SERVICE_FIXTURES.items():
                if fixture in getattr(item, "fixturenames", ()):
                    item.add_marker(getattr(pytest.mark, name))
