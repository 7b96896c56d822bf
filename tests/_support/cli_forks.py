"""Many `kgrec` commands, each in its own process, without paying the CLI's import for each.

`python -m tests._support.cli_forks` imports the command line once, then forks a child per
request it reads on stdin (one JSON object a line: args, cwd, env, stdout and stderr files) and
answers with the child's exit status. A child is a fresh process as far as the command can
tell: its own working directory, environment, stdout and stderr (files, not terminals, as in a
log or CI), and an error that escapes the command goes through Python's (typer's) traceback
hook exactly as in `kgrec`. What it shares with the parent is the imported CLI modules: about
0.7 s of a short command's 1 to 1.3 s here, which halves the time of a file of many error cases.
`ForkedKgrec` is the test side.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def _child(request: dict[str, Any]) -> None:
    """Run one command in this (forked) process and leave with its exit status."""
    os.chdir(request["cwd"])
    os.environ.update(request["env"])
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(handle, fd)
        os.close(handle)
    stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    from pipelines.cli.app import app

    if request.get("forbid_ray"):
        import pipelines.ray_runtime

        pipelines.ray_runtime.ensure_ray = _no_ray  # type: ignore[assignment]
    code = 0
    try:
        app(args=request["args"], prog_name="kgrec")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        sys.excepthook(*sys.exc_info())  # typer's hook, as the interpreter would call it
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
    os._exit(code)


def _no_ray(*_: object) -> None:
    raise AssertionError("the command started Ray before a check that could fail first")


def serve() -> None:
    """The parent: import the CLI, then fork one child per request line."""
    import pipelines.cli.app  # noqa: F401 - the import every child inherits

    protocol = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        protocol.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)
        _, status = os.waitpid(pid, 0)
        protocol.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
        protocol.flush()


class ForkedKgrec:
    """The test side: `run(*args, cwd=..., env=...)` like `tests._support.cli.kgrec`, but forked."""

    def __init__(self) -> None:
        # os.environ explicitly, as `tests._support.cli.kgrec` does: the process's own environment
        # can hold variables a library set behind os.environ's back (COLUMNS=80 under pytest here).
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests._support.cli_forks"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2], env=dict(os.environ))

    def run(self, *args: str, cwd: Path, env: dict[str, str] | None = None,
            forbid_ray: bool = False) -> subprocess.CompletedProcess[str]:
        """Run `kgrec args` in `cwd` with `env` added; its exit status, stdout and stderr.

        `forbid_ray` makes starting Ray an error (a traceback): for commands that should
        fail on their input before paying for a cluster.
        """
        assert self._process.stdin is not None and self._process.stdout is not None
        with tempfile.TemporaryDirectory() as scratch:
            out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
            request = {"args": list(args), "cwd": str(cwd), "env": env or {}, "stdout": str(out),
                       "stderr": str(err), "forbid_ray": forbid_ray}
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            reply = json.loads(self._process.stdout.readline())
            return subprocess.CompletedProcess(["kgrec", *args], reply["returncode"], out.read_text(),
                                               err.read_text())

    def close(self) -> None:
        """End the parent (it is waiting on stdin)."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)


if __name__ == "__main__":
    serve()
