"""Start or join Ray, once per process, the same way for every command."""

from __future__ import annotations

import logging
import os

from pipelines.config import RaySection

log = logging.getLogger("kgrec")


def ensure_ray(settings: RaySection) -> None:
    """Join a cluster or start a local one; a no-op when already connected.

    The cluster is `settings.address`, else RAY_ADDRESS (`ray job submit` sets it), else a
    new local one sized by `num_cpus` and `object_store_memory_mb`.
    """
    import ray
    from ray.data import DataContext
    from ray.data.context import ShuffleStrategy

    if not ray.is_initialized():
        address = settings.address or os.environ.get("RAY_ADDRESS")
        if address:
            log.info("joining Ray cluster at %s", address)
            ray.init(address=address, log_to_driver=True)
        else:
            memory = settings.object_store_memory_mb
            ray.init(
                address="local",  # always a new cluster, never another process's by accident
                num_cpus=settings.num_cpus,
                object_store_memory=memory * 1024 * 1024 if memory else None,
                include_dashboard=False,
                log_to_driver=True,
            )
    context = DataContext.get_current()
    context.enable_progress_bars = settings.progress_bars
    context.print_on_execution_start = False
    context.shuffle_strategy = ShuffleStrategy(settings.shuffle_strategy)


def cluster_cpus() -> int:
    """CPUs the connected cluster offers (at least 1), for sizing shuffles."""
    import ray

    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return max(1, int(resources.get("CPU", 1)))
