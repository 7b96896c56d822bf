"""`kgrec refine ...`: the refine stage (the decided graph input) and the critic's training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import ConfigOption, GraphOption, console, error, settings_from, user_errors

refine_app = typer.Typer(help="Refine mined and extracted relations into the graph input; train the critic.")


@refine_app.callback(invoke_without_command=True)
def refine(
    ctx: typer.Context,
    candidates: Annotated[Path | None, typer.Option("--candidates", help="The candidates output.")] = None,
    ingest: Annotated[Path | None, typer.Option("--ingest", help="The ingest output (the items).")] = None,
    extract: Annotated[Path | None, typer.Option(
        "--extract", help="The extract output (answers, relations); without it only co-purchases.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output directory: the graph input.")] = None,
    critic: Annotated[Path | None, typer.Option(
        "--critic", help="A saved critic directory (default: the newest under refine.critic_dir).")] = None,
    previous: Annotated[Path | None, typer.Option(
        "--previous", help="Incremental: the refine output the graph was last loaded from; only what "
        "changed since is written to relations/.")] = None,
    config: ConfigOption = None,
    graph: GraphOption = None,
) -> None:
    """Decide what the mined pairs and LLM answers say; write what `kgrec graph load` reads."""
    if ctx.invoked_subcommand is not None:
        return
    if candidates is None or ingest is None or out is None:
        raise error("kgrec refine needs --candidates, --ingest and --out (and usually --extract), or a "
                    "subcommand (train-critic); see `kgrec refine --help`")
    from pipelines.manifest import new_run_id
    from pipelines.outputs import require_complete, require_output_dir
    from pipelines.ray_runtime import ensure_ray
    from pipelines.refine.increment import require_held
    from pipelines.refine.job import RefineInputs
    from pipelines.steps.refine import refine_stage, select_critic

    with user_errors():
        overrides = {"refine": {"critic": critic}} if critic is not None else None
        settings = settings_from(config, overrides, graph)
        inputs = RefineInputs(ingest, candidates, extract, previous)
        for path, stage, flag in ((ingest, "ingest", "--ingest"), (candidates, "candidates", "--candidates"),
                                  (extract, "extract", "--extract")):
            if path is not None:  # fail fast, before paying for Ray's start-up
                require_complete(path, stage, flag)
        if previous is not None:
            require_held(previous)
        require_output_dir(out)
        chosen = select_critic(settings.refine)
        ensure_ray(settings.ray)
        report = refine_stage(settings, inputs, out, new_run_id(), chosen)
    typer.echo(report.model_dump_json(indent=2))


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
