"""What kgrec writes to the console while it works: its own lines, and Ray's only when asked.

A run's log should read as one line per stage start and end (`pipelines.report`), warnings,
and errors. Ray and Ray Data are chatty on a console that is not a terminal (a job log, CI):
Ray Data logs its progress as several lines per dataset every few seconds (hundreds per
`kgrec run`), and Ray core announces every start. Unless `--verbose` is given, those go to
Ray's own log files only (the session directory's `ray-data.log` keeps Ray Data's, at debug
level); their warnings and errors still reach the console. `--verbose` restores all of it and
logs kgrec at debug level.
"""

from __future__ import annotations

import logging
import sys

_state = {"verbose": False}
FORMAT = "%(asctime)s %(levelname)s %(message)s"


def configure(verbose: bool | None = None) -> None:
    """Log kgrec to stderr (INFO, or DEBUG when verbose); `verbose` None keeps the current choice."""
    if verbose is not None:
        _state["verbose"] = verbose
    logging.basicConfig(level=logging.INFO, format=FORMAT, stream=sys.stderr)
    logging.getLogger("kgrec").setLevel(logging.DEBUG if _state["verbose"] else logging.INFO)


def is_verbose() -> bool:
    """Whether `--verbose` was given (Ray's console logging stays on)."""
    return _state["verbose"]


def ray_logging_level() -> int:
    """The level of Ray core's own console logger (`ray.init(logging_level=...)`)."""
    return logging.INFO if _state["verbose"] else logging.WARNING


def quiet_ray_data() -> None:
    """Raise Ray Data's console handler to WARNING unless verbose; its log file keeps everything.

    Ray Data configures the `ray.data` logger when it is imported, with a console handler at
    INFO (its progress lines in a non-terminal, "execution finished", "data sink finished")
    and a file handler in the session directory; only the console one is changed.
    """
    level = logging.INFO if _state["verbose"] else logging.WARNING
    for handler in logging.getLogger("ray.data").handlers:
        if not isinstance(handler, logging.FileHandler) and "File" not in type(handler).__name__:
            handler.setLevel(level)
