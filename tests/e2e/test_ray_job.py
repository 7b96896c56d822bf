"""Stages as Ray job entry points: `ray job submit -- kgrec ...` against a real local Ray head."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.outputs import MARKER
from tests._support.ray_nodes import RayHead, submit, succeeded


@pytest.fixture
def ray_head(tmp_path: Path) -> Iterator[str]:
    """A `ray start --head --block` on loopback ports; stopped through its process group."""
    head = RayHead.start_head(tmp_path / "head.log", num_cpus=2)
    try:
        yield head.address
    finally:
        head.stop()


def test_stages_run_as_ray_jobs_and_join_the_cluster(ray_head: str, tmp_path: Path) -> None:
    succeeded(submit(ray_head, "kgrec", "data", "synth", "--events", "3000", "--out", str(tmp_path / "raw")))
    logs = succeeded(submit(ray_head, "kgrec", "ingest", "--format", "parquet",
                            "--events", str(tmp_path / "raw" / "events"),
                            "--items", str(tmp_path / "raw" / "items.parquet"), "--out", str(tmp_path / "ingest")))
    assert "ray: joining the cluster at" in logs  # RAY_ADDRESS from `ray job submit`, not a new local Ray
    assert '"events": 3000' in logs
    assert (tmp_path / "ingest" / MARKER).exists()
