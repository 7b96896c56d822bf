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


# Ray's notice when `ray.init()` starts a local cluster with token authentication, its default.
TOKEN_NOTICE = "Token authentication is enabled for this Ray cluster"
TOKEN_LOGGER = "ray._private.authentication.authentication_token_setup"


class _DropTokenNotice(logging.Filter):
    """Drops Ray's token-authentication notice unless verbose (see `quiet_ray`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _state["verbose"] or not record.getMessage().startswith(TOKEN_NOTICE)


def quiet_ray() -> None:
    """Keep Ray's notice about token authentication on the local cluster kgrec starts off the console.

    Ray (2.60+) turns token authentication on for every new local cluster and says so in a
    WARNING on each start. kgrec keeps it on: its local cluster listens on this machine only,
    but without a token any process of any user here could submit code that runs as this user;
    the token (Ray's `~/.ray/auth_token`, made once) costs nothing. The notice is what Ray
    always does, not something to act on, so it is shown with `--verbose` only; set
    RAY_AUTH_MODE=disabled to opt out (Ray then warns the other way, which is shown).
    """
    logger = logging.getLogger(TOKEN_LOGGER)
    if not any(isinstance(f, _DropTokenNotice) for f in logger.filters):
        logger.addFilter(_DropTokenNotice())


def quiet_ray_data() -> None:
    """Raise Ray Data's console handler to WARNING unless verbose; its log file keeps everything.

    Ray Data configures the `ray.data` logger when it is imported, with a console handler at
    INFO (its progress lines in a non-terminal, "execution finished", "data sink finished")
    and a file handler in the session directory; only the console one is changed.
    """
    level = logging.INFO if _state["verbose"] else logging.WARNING
    # Its notices about progress bars ("disabled, to enable set ..."): the choice was the user's.
    logging.getLogger("ray.data._internal.progress").setLevel(
        logging.NOTSET if _state["verbose"] else logging.ERROR)
    for handler in logging.getLogger("ray.data").handlers:
        if not isinstance(handler, logging.FileHandler) and "File" not in type(handler).__name__:
            handler.setLevel(level)
