"""Start or join Ray, once per process, the same way for every command."""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

from pipelines import logs
from pipelines.config import RaySection

log = logging.getLogger("kgrec")


def ensure_ray(settings: RaySection) -> None:
    """Join a cluster or start a local one; a no-op when already connected.

    The cluster is `settings.address`, else RAY_ADDRESS (`ray job submit` sets it), else a
    new local one sized by `num_cpus` and `object_store_memory_mb`. Ray's and Ray Data's own
    console logging stays off unless `--verbose` (`pipelines.logs`); Ray Data's progress bars
    show on a terminal when `progress_bars` is set.
    """
    import ray
    from ray.data import DataContext
    from ray.data.context import ShuffleStrategy

    if not ray.is_initialized():
        address = settings.address or os.environ.get("RAY_ADDRESS")
        if address:
            log.info("ray: joining the cluster at %s", address)
            ray.init(address=address, log_to_driver=True, logging_level=logs.ray_logging_level())
        else:
            logs.quiet_ray()
            memory = settings.object_store_memory_mb
            ray.init(
                address="local",  # always a new cluster, never another process's by accident
                num_cpus=settings.num_cpus,
                object_store_memory=memory * 1024 * 1024 if memory else None,
                include_dashboard=False,
                log_to_driver=True,
                logging_level=logs.ray_logging_level(),
            )
            log.info("ray: started a local cluster (%d CPUs, token authentication %s)", cluster_cpus(),
                     "off" if os.environ.get("RAY_AUTH_MODE", "").lower() == "disabled" else "on")
    logs.quiet_ray_data()
    context = DataContext.get_current()
    context.enable_progress_bars = settings.progress_bars
    context.print_on_execution_start = False
    context.shuffle_strategy = ShuffleStrategy(settings.shuffle_strategy)
    context.use_datasource_v2 = settings.parquet_datasource_v2


def cluster_cpus() -> int:
    """CPUs the connected cluster offers (at least 1), for sizing shuffles."""
    import ray

    resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
    return max(1, int(resources.get("CPU", 1)))


def shuffle_partitions(rows: int, cpus: int, max_rows: int = 500_000, min_rows: int = 50_000) -> int:
    """Partitions for a keyed regrouping of `rows` rows on a cluster of `cpus` CPUs.

    Enough that none holds more than `max_rows` (memory), and up to two per CPU as long as
    each keeps at least `min_rows`: a small input gets few partitions. That matters most for
    Ray Data's hash shuffle (ingest's), which starts one aggregator actor (a new worker
    process) per partition, up to one per CPU, and starting one costs seconds on a small
    machine, far more than its share of a small input's work (`benchmarks/shuffle_sizing.py`);
    candidates' exchanges through files (`pipelines.candidates.buckets`) take the same sizes.
    """
    return max(math.ceil(rows / max_rows), min(2 * cpus, math.ceil(rows / min_rows)), 1)


@dataclass
class SpillCount:
    """Object store bytes the cluster spilled to disk, and read back, while a block ran."""

    spilled_bytes: int = 0
    restored_bytes: int = 0


def _store_totals() -> tuple[int, int]:
    """The cluster's spilled and restored bytes since it started, summed over every node.

    What `ray memory --stats-only` prints (and Ray Data's dataset stats read): the raylets' store
    statistics. Ray offers no public Python call for them; this is the one those two use.
    """
    import ray
    from ray._private.internal_api import get_memory_info_reply, get_state_from_address

    state = get_state_from_address(ray.get_runtime_context().gcs_address)  # type: ignore[no-untyped-call]
    reply = get_memory_info_reply(state)  # type: ignore[no-untyped-call]
    return int(reply.store_stats.spilled_bytes_total), int(reply.store_stats.restored_bytes_total)


@contextlib.contextmanager
def spill_count() -> Iterator[SpillCount]:
    """Count what the object store spilled during the block (cluster-wide: other jobs count too)."""
    spilled, restored = _store_totals()
    count = SpillCount()
    try:
        yield count
    finally:
        spilled_after, restored_after = _store_totals()
        count.spilled_bytes, count.restored_bytes = spilled_after - spilled, restored_after - restored
