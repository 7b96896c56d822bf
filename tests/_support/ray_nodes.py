"""Real Ray nodes on this machine, each a `ray start --block` process, and jobs submitted to them.

Every node gets its own free loopback ports (the defaults clash with any other Ray here) and is
stopped through its own process group: `ray stop` would end every Ray on the machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from kg.servers import free_port

BIN = Path(sys.executable).parent


# The GCS declares a node dead after `threshold` missed checks, `period` apart: Ray's defaults
# (3 s, 5 misses, 10 s timeout) leave a killed raylet undetected for half a minute or more, which
# a test that kills one only waits out. A second here keeps detection real and quick.
FAST_NODE_DEATH = {"RAY_health_check_period_ms": "1000", "RAY_health_check_timeout_ms": "1000",
                   "RAY_health_check_failure_threshold": "3"}


def ray_env() -> dict[str, str]:
    """The environment `ray` and `kgrec` run in: this venv's bin first, no inherited cluster, and
    a killed node noticed within seconds."""
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           **FAST_NODE_DEATH}
    env.pop("RAY_ADDRESS", None)
    return env


def _node_ports() -> list[str]:
    return ["--node-ip-address", "127.0.0.1", "--node-manager-port", str(free_port()),
            "--object-manager-port", str(free_port()),
            "--dashboard-agent-listen-port", str(free_port()), "--dashboard-agent-grpc-port", str(free_port()),
            "--runtime-env-agent-port", str(free_port()), "--metrics-export-port", str(free_port())]


@dataclass
class RayNode:
    """One node: the `ray start --block` process whose children are its raylet, GCS, workers."""

    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, args: list[str], log: Path) -> RayNode:
        with log.open("w") as out:
            process = subprocess.Popen([str(BIN / "ray"), "start", "--block", *args, *_node_ports()],
                                       stdout=out, stderr=subprocess.STDOUT, env=ray_env(),
                                       start_new_session=True)
        return cls(process, log)

    def raylet_pid(self) -> int:
        """The PID of this node's raylet (killing it is a real node failure)."""
        (raylet,) = [p for p in psutil.Process(self.process.pid).children(recursive=True) if p.name() == "raylet"]
        return int(raylet.pid)

    def stop(self) -> None:
        """SIGINT to the process group (`ray start --block` then shuts its node down), then SIGKILL."""
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def tail(self) -> str:
        return self.log.read_text()[-2000:]


@dataclass
class RayHead(RayNode):
    """The head node: GCS at `gcs_address`, dashboard (jobs, state API) at `address`."""

    address: str = ""
    gcs_address: str = ""

    @classmethod
    def start_head(cls, log: Path, num_cpus: int, *extra: str) -> RayHead:
        dashboard, gcs = free_port(), free_port()
        node = RayNode.start(["--head", "--port", str(gcs), "--dashboard-host", "127.0.0.1",
                              "--dashboard-port", str(dashboard), "--include-dashboard", "true",
                              "--num-cpus", str(num_cpus), "--ray-client-server-port", str(free_port()),
                              *extra], log)
        head = cls(node.process, log, f"http://127.0.0.1:{dashboard}", f"127.0.0.1:{gcs}")
        head.wait_for(lambda: _answers(f"{head.address}/api/version"), "the Ray head's dashboard")
        return head

    def add_node(self, log: Path, num_cpus: int, resources: dict[str, float], *extra: str) -> RayNode:
        """Start a node that joins this head, and wait until the cluster lists it alive."""
        node = RayNode.start(["--address", self.gcs_address, "--num-cpus", str(num_cpus),
                              "--resources", json.dumps(resources), *extra], log)
        self.wait_for(lambda: self.node_with(next(iter(resources))) is not None, f"a node joining ({node.tail()})")
        return node

    def node_with(self, resource: str) -> str | None:
        """The id of the alive node that has `resource`, if one has joined."""
        from ray.util.state import list_nodes

        nodes = list_nodes(address=self.address, filters=[("state", "=", "ALIVE")], detail=True,
                           raise_on_missing_output=False)
        return next((n.node_id for n in nodes if resource in n.resources_total), None)

    def wait_for(self, condition: Callable[[], bool], what: str, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"timed out waiting for {what}: {self.tail()}")
            time.sleep(0.5)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)
    except OSError:
        return False
    return True


def submit(address: str, *command: str, submission_id: str | None = None, wait: bool = True,
           runtime_env: dict[str, object] | None = None) -> subprocess.CompletedProcess[str]:
    """`ray job submit` of `command`; retried while the dashboard's job agent is not up yet."""
    options = ["--submission-id", submission_id] if submission_id else []
    options += [] if wait else ["--no-wait"]
    options += ["--runtime-env-json", json.dumps(runtime_env)] if runtime_env else []
    deadline = time.monotonic() + 60
    while True:
        result = subprocess.run([str(BIN / "ray"), "job", "submit", "--address", address, *options, "--", *command],
                                env=ray_env(), capture_output=True, text=True, timeout=300)
        if "No available agent to submit job" not in result.stderr or time.monotonic() > deadline:
            return result
        time.sleep(2)


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    """The job's output, after checking that `ray job submit` reports it succeeded."""
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "succeeded" in output, output[-3000:]
    return output
