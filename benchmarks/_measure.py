"""Run a callable in a child process and report wall time and peak memory of its process tree."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
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


def measure(target: Callable[..., Any], *args: Any, proportional: bool = False) -> tuple[float, int, Any]:
    """(wall seconds, peak RSS bytes summed over the child's process tree, target's result).

    Summed RSS counts pages shared between processes (Ray's object store) once per process,
    so for the Ray path it is an upper bound. With `proportional` the peak is of the summed
    PSS instead (`_tree_memory`): shared pages counted once.
    """
    context = mp.get_context("spawn")
    queue: mp.Queue[Any] = context.Queue()
    child = context.Process(target=_run, args=(queue, target, args))
    start = time.perf_counter()
    child.start()
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        handle = psutil.Process(child.pid)
        while not done.is_set():
            with contextlib.suppress(psutil.Error):
                peak = max(peak, _tree_memory(handle, proportional))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = queue.get()
    child.join()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if isinstance(result, BaseException):
        raise result
    return wall, peak, result


def _run(queue: Any, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        queue.put(target(*args))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which re-raises
        queue.put(e)
