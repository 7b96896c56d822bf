"""Integration tests: real FalkorDB, Redis, Ray and LLM servers, one folder per service.

The service fixtures are defined in tests/_support/services.py and exist only for this suite.
"""

import pytest

from tests._support.markers import mark_directory, mark_services
from tests._support.services import falkordb_url, ray_cluster, redis_url

__all__ = ["falkordb_url", "ray_cluster", "redis_url"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_directory(items, __file__, "integration")
    mark_services(items, __file__)
