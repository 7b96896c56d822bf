"""Run the `kgrec` command line as users run it: a fresh process per command."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

KGREC = [sys.executable, "-m", "pipelines.cli"]


def kgrec(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run kgrec and return its exit code and output.

    Output goes through files, not pipes: Ray's daemons inherit the command's stdout and
    stderr and may outlive it by minutes, and a pipe reader would wait for them too.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        completed = subprocess.run([*KGREC, *args], cwd=cwd, stdout=out, stderr=err, text=True,
                                   timeout=600, env={**os.environ, **(env or {})})
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(completed.args, completed.returncode, out.read(), err.read())


def run_dir_of(result: subprocess.CompletedProcess[str], runs: Path) -> Path:
    """The run directory `kgrec run` printed (its last line under `runs`; Ray may print after it)."""
    return next(Path(line) for line in reversed(result.stdout.splitlines()) if line.startswith(str(runs)))
