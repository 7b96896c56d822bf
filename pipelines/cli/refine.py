"""`kgrec refine ...`: the refine stage's commands (the critic's training for now)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import ConfigOption, console, settings_from, user_errors

refine_app = typer.Typer(no_args_is_help=True, help="Refine mined and extracted relations: the critic.")


@refine_app.command("train-critic")
def train_critic(
    labels: Annotated[list[Path], typer.Option(
        "--labels", help="A labels CSV (a,b,label) or a `kgrec curate export` file; repeat for several.")],
    ingest: Annotated[Path, typer.Option("--ingest", help="The ingest output holding the labeled items.")],
    candidates: Annotated[Path, typer.Option("--candidates", help="The candidates output (co-occurrence).")],
    extract: Annotated[Path | None, typer.Option(
        "--extract", help="An extract output: its pair answers become features.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Where to save the critic (default: refine.critic_dir).")] = None,
    config: ConfigOption = None,
) -> None:
    """Train a critic from labels; print its cross-validated precision and recall per kind."""
    from pipelines.steps.refine import train_critic_step

    with user_errors():
        overrides = {"refine": {"critic_dir": out}} if out is not None else None
        settings = settings_from(config, overrides)
        critic, path = train_critic_step(settings, labels, ingest, candidates, extract)
    for kind in critic.manifest.kinds:
        figures = (f"precision {kind.precision:.3f}, recall {kind.recall:.3f} (cross-validated)"
                   if kind.trained else f"not trained: {kind.reason}")
        console.print(f"{kind.kind}: {kind.positives} positive, {kind.negatives} negative; {figures}",
                      soft_wrap=True)
    typer.echo(str(path))
