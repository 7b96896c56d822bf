"""Stages as Ray job entry points: `ray job submit -- kgrec ...` against a real local Ray head."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.outputs import MARKER

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def ray_head(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A `ray start --head --block` on loopback ports; stopped through its process group."""
    dashboard = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("RAY_ADDRESS", None)
    log = (tmp_path / "head.log").open("w")
    head = subprocess.Popen(
        [str(BIN / "ray"), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
         "--port", str(_free_port()), "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dashboard),
         "--include-dashboard", "true", "--num-cpus", "2",
         # Free ports for the agents too: their defaults clash with any other Ray on the machine.
         "--dashboard-agent-listen-port", str(_free_port()), "--dashboard-agent-grpc-port", str(_free_port()),
         "--runtime-env-agent-port", str(_free_port()), "--metrics-export-port", str(_free_port()),
         "--ray-client-server-port", str(_free_port())],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    address = f"http://127.0.0.1:{dashboard}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{address}/api/version", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or head.poll() is not None:
                    pytest.fail(f"Ray head did not come up: {(tmp_path / 'head.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield address, env
    finally:
        os.killpg(head.pid, signal.SIGINT)  # `ray start --block` shuts its cluster down on SIGINT
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()


def _submit(address: str, env: dict[str, str], *command: str) -> str:
    # The dashboard answers before its job agent is up; Ray then says to try again later.
    deadline = time.monotonic() + 60
    while True:
        result = subprocess.run([str(BIN / "ray"), "job", "submit", "--address", address, "--", *command],
                                env=env, capture_output=True, text=True, timeout=300)
        if "No available agent to submit job" not in result.stderr or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert result.returncode == 0 and "succeeded" in result.stdout + result.stderr, result.stdout[-3000:]
    return result.stdout + result.stderr


def test_stages_run_as_ray_jobs_and_join_the_cluster(ray_head: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    address, env = ray_head
    _submit(address, env, "kgrec", "data", "synth", "--events", "3000", "--out", str(tmp_path / "raw"))
    logs = _submit(address, env, "kgrec", "ingest", "--format", "parquet", "--events", str(tmp_path / "raw" / "events"),
                   "--items", str(tmp_path / "raw" / "items.parquet"), "--out", str(tmp_path / "ingest"))
    assert "ray: joining the cluster at" in logs  # RAY_ADDRESS from `ray job submit`, not a new local Ray
    assert '"events": 3000' in logs
    assert (tmp_path / "ingest" / MARKER).exists()
