"""`python -m pipelines.cli ...`: the same commands as the `kgrec` console script."""

from pipelines.cli.app import app

app()
