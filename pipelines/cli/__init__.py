"""The `kgrec` command line, one module per command group; `app` is the console script's entry point."""

from pipelines.cli.app import app

__all__ = ["app"]
