"""What every `kgrec` command shares: the config option, settings loading, error reporting."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from kg.errors import KgrecError
from pipelines.config import Settings, load_settings

console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML config (presets: infra/configs/).")
]


def settings_from(config: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    """Configure logging and build the effective settings for a command."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        stream=sys.stderr)
    return load_settings(config, overrides)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn kgrec's own errors (bad config, bad input) into a one-line message and exit code 2."""
    try:
        yield
    except KgrecError as e:
        console.print(f"[bold red]error:[/] {e}", soft_wrap=True)  # one line a message: greppable
        raise typer.Exit(code=2) from e
