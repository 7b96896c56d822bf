"""Progress display for long steps: a rich bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

log = logging.getLogger("kgrec")


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yield an `advance(n)` callback; shows a bar on a TTY and logs every 10 s elsewhere.

    The bar is drawn on stderr, the terminal it was checked for: stdout carries commands'
    reports (JSON), which a bar must never end up in.
    """
    if sys.stderr.isatty():
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), transient=False, console=Console(stderr=True)) as bar:
            task = bar.add_task(label, total=total)
            yield lambda n: bar.advance(task, n)
        return
    done = 0
    last = time.monotonic()

    def advance(n: int) -> None:
        nonlocal done, last
        done += n
        if time.monotonic() - last > 10 or done >= total:
            log.info("%s: %d/%d", label, done, total)
            last = time.monotonic()

    yield advance
