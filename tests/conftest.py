"""Fixtures every suite may use: tools, not services (those are in tests/_support/services.py)."""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests._support.cypher_lint import CypherLinter


@pytest.fixture(scope="session")
def cypher_linter() -> Iterator["CypherLinter"]:
    """Neo4j's Cypher front end, one node process for the session."""
    from tests._support.cypher_lint import CypherLinter

    linter = CypherLinter()
    yield linter
    linter.close()
