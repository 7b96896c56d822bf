"""Fixtures shared by the integration and end-to-end suites."""

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
