"""Access to ../shared/data, with a loud skip when a checkout has none beside it."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def shared_data(relative: str) -> Path:
    """Path of a shared dataset file, or skip the test naming what is missing and why."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"SKIPPED LOUDLY: {path} is absent. This test needs the shared datasets beside "
                    f"the checkout (../shared/data, see its README); a plain user clone has none.")
    return path


def neo4j_settings() -> tuple[str, str, str]:
    """(uri, user, password) of a test Neo4j, or skip naming the variables to set."""
    import os

    uri = os.environ.get("NEO4J_URI")
    if not uri:
        pytest.skip("SKIPPED LOUDLY: Neo4j contract tests need a Neo4j 5 server: set NEO4J_URI "
                    "(and NEO4J_USER, NEO4J_PASSWORD). None can be installed on the CI machine.")
    return uri, os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "")
