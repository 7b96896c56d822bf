"""What every `kgrec` command shares: the config option, settings loading, error reporting."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from kg.errors import ConfigError, KgrecError
from pipelines import logs
from pipelines.cli.node_loss import lost_node
from pipelines.config import Settings, load_settings

# Nothing wraps in a log or CI (stderr not a terminal): a wrapped line breaks a path, an id or a
# sentence in two, and with it every grep and copy of it. Messages are not wrapped at all, and
# tables get room to lay out their cells whole (rich would assume 80 columns and fold or crop
# them) unless COLUMNS says otherwise. On a terminal rich fits both to its width. No emoji codes
# either: a relation id like CO_PURCHASED:a:b must print as it is.
LOG_WIDTH = 1000
_terminal = sys.stderr.isatty()
console = Console(stderr=True, soft_wrap=not _terminal, emoji=False,
                  width=None if _terminal or os.environ.get("COLUMNS") else LOG_WIDTH)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML config (presets: infra/configs/).")
]
GraphOption = Annotated[str | None, typer.Option(
    "--graph", help="The graph (FalkorDB graph name); default: the config's dataset's graph "
    "(`kgrec graph status` lists them).")]
SinceOption = Annotated[str | None, typer.Option(
    "--since", help="Incremental: only events at or after this time (ISO 8601; UTC unless it names a "
    "zone), added to the previous run's state.")]


def parse_since(text: str | None) -> datetime | None:
    """`--since`'s time, UTC (a time without a zone is taken as UTC).

    Raises:
        ConfigError: `text` is not an ISO 8601 date or time.
    """
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--since {text!r} is not an ISO 8601 time (e.g. 2026-03-28 or "
                          "2026-03-28T00:00:00Z)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


STORE_HINT = ("check that the store is running and reachable (`kgrec graph status`, `kgrec cache "
              "status`) and that graph.falkordb_url, graph.neo4j_uri or cache.url name it")


def settings_from(config: Path | None, overrides: dict[str, Any] | None = None,
                  graph: str | None = None) -> Settings:
    """Configure logging and build the effective settings for a command; `graph` is a `--graph` given."""
    logs.configure()
    if graph is not None:
        given = overrides or {}
        overrides = {**given, "graph": {**given.get("graph", {}), "graph_name": graph}}
    return load_settings(config, overrides)


NODE_LOST_EXIT = 3  # the cluster lost a node under the command: not the input's fault, re-run it


def error(message: str, code: int = 2) -> typer.Exit:
    """Print `message` as kgrec's one-paragraph error and return the exit (code 2) to raise."""
    console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    return typer.Exit(code=code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn kgrec's own errors (bad config, bad input) into a message and exit code 2, no traceback.

    A store's client errors that escape the code that knows the store (a connection refused
    or lost half-way, a server that is not the kind configured) are reported the same way:
    they are about the user's setup, not a bug. A Ray node lost under the stage is said naming
    the node, with exit code 3 (`pipelines.cli.node_loss`).
    """
    try:
        yield
    except KgrecError as e:
        raise error(str(e)) from e
    except Exception as e:
        node = lost_node(e)
        if node is not None:
            raise error(node, NODE_LOST_EXIT) from e
        reason = _store_failure(e)
        if reason is None:
            raise
        raise error(f"{reason}: {_one_line(e)}; {STORE_HINT}") from e


def _store_failure(e: Exception) -> str | None:
    """What a redis or neo4j client error means for the user, or None for any other error.

    The clients are looked up among the loaded modules: an error cannot be of a client that
    was never imported, and importing one just to find out would slow every command.
    """
    redis = sys.modules.get("redis.exceptions")
    if redis is not None:
        if isinstance(e, redis.ConnectionError | redis.TimeoutError):
            return "a store (FalkorDB or Redis) cannot be reached"
        if isinstance(e, redis.ResponseError):
            return "a store (FalkorDB or Redis) refused a command"
    neo4j = sys.modules.get("neo4j.exceptions")
    if neo4j is not None and isinstance(e, neo4j.ServiceUnavailable | neo4j.SessionExpired
                                        | neo4j.AuthError):
        return "the Neo4j store cannot be used"
    return None


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
