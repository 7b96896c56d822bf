"""Run a callable in a child process and report wall time and peak memory of its process tree.

A child whose target has returned can still fail to exit: `multiprocessing` joins the child's own
non-daemon children before its exit handlers run, so a library that starts such a process and
stops it only at exit (vLLM's engine core does) waits on it forever. With `timeout`, `measure`
turns that, and a target that never returns, into an error naming what is still running. Some
processes of the tree can also outlive the child (Ray's workers and the vLLM engine they hold,
reparented to init, ran on for about a minute here): with `timeout` they are waited for, then
killed, so the next measured run does not share the cores with them.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue as queues
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil


def _tree_memory(process: psutil.Process, proportional: bool) -> int:
    """Memory of the process and its descendants: summed RSS, or with `proportional` summed PSS.

    PSS counts a page shared by n processes 1/n in each, so Ray's object store (shared memory)
    counts once; reading it walks each process's page map, so only benchmarks that need it ask.
    """
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            total += proc.memory_full_info().pss if proportional else proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def measure(target: Callable[..., Any], *args: Any, proportional: bool = False,
            timeout: float | None = None) -> tuple[float, int, Any]:
    """(wall seconds, peak RSS bytes summed over the child's process tree, target's result).

    Summed RSS counts pages shared between processes (Ray's object store) once per process,
    so for the Ray path it is an upper bound. With `proportional` the peak is of the summed
    PSS instead (`_tree_memory`): shared pages counted once. With `timeout` (seconds for the
    result, then EXIT_GRACE_S for the child to exit) a stuck child's process tree is killed and
    `TimeoutError` says what was still running; processes of the tree that outlive the child
    are waited for as long, then killed (`_outlived`).
    """
    context = mp.get_context("spawn")
    queue: mp.Queue[Any] = context.Queue()
    child = context.Process(target=_run, args=(queue, target, args))
    start = time.perf_counter()
    child.start()
    peak = 0
    done = threading.Event()
    seen: set[psutil.Process] = set()

    def sample() -> None:
        nonlocal peak
        handle = psutil.Process(child.pid)
        while not done.is_set():
            with contextlib.suppress(psutil.Error):
                peak = max(peak, _tree_memory(handle, proportional))
                seen.update(handle.children(recursive=True))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = _result(queue, child, timeout)
        wall = time.perf_counter() - start
    finally:
        done.set()
        sampler.join()
    if timeout is not None:
        _outlived(seen)
    if isinstance(result, BaseException):
        raise result
    return wall, peak, result


EXIT_GRACE_S = 120.0


def _result(queue: mp.Queue[Any], child: Any, timeout: float | None) -> Any:
    """The child's result once it has exited; with `timeout`, `_stuck`'s error instead of waiting on."""
    try:
        result = queue.get(timeout=timeout)
    except queues.Empty:
        raise _stuck(child, f"gave no result within {timeout} s") from None
    child.join(None if timeout is None else EXIT_GRACE_S)
    if child.is_alive():
        raise _stuck(child, f"returned its result but had not exited {EXIT_GRACE_S:.0f} s later")
    return result


def _stuck(child: Any, what: str) -> TimeoutError:
    """Kill the child's process tree; the error names what was running in it."""
    try:
        tree = [psutil.Process(child.pid)]
        tree += tree[0].children(recursive=True)
    except psutil.Error:
        tree = []
    running = []
    for proc in tree:
        with contextlib.suppress(psutil.Error):
            command = " ".join(proc.cmdline()) or proc.name()
            running.append(f"{command[:80]} (pid {proc.pid}, {proc.status()})")
            proc.kill()
    psutil.wait_procs(tree, timeout=10)
    return TimeoutError(f"measured process {what}; killed its tree: {', '.join(running) or 'none left'}")


def _outlived(seen: set[psutil.Process]) -> None:
    """Wait up to EXIT_GRACE_S for the processes of a finished child's tree, then kill what is left."""
    alive = [proc for proc in seen if proc.is_running()]
    _, left = psutil.wait_procs(alive, timeout=EXIT_GRACE_S)
    for proc in left:
        with contextlib.suppress(psutil.Error):
            print(f"measure: killing pid {proc.pid} ({' '.join(proc.cmdline())[:80]}), still running "
                  f"{EXIT_GRACE_S:.0f} s after the measured process exited", file=sys.stderr)
            proc.kill()
    psutil.wait_procs(left, timeout=10)


def _run(queue: Any, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        queue.put(target(*args))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which re-raises
        queue.put(e)
