"""`kgrec train` and `kgrec embed export`: the temporal model and its embeddings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from pipelines.cli.common import ConfigOption, settings_from, user_errors

embed_app = typer.Typer(no_args_is_help=True, help="Time-aware embeddings for rankers.")


def train(
    snapshot: Annotated[Path, typer.Option("--snapshot", help="A `kgrec graph snapshot` directory.")],
    events: Annotated[Path, typer.Option("--events", help="An ingest output (with events/).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the model, id map and metrics.")],
    device: Annotated[Literal["cpu", "cuda"] | None, typer.Option("--device", help="cpu or cuda.")] = None,
    baseline: Annotated[bool, typer.Option("--baseline", help="PyG's TGN example: no knowledge, "
                                           "no text features.")] = False,
    ray: Annotated[bool, typer.Option("--ray", help="Train in a Ray Train worker (on the cluster "
                                      "kgrec joins).")] = False,
    warm_start: Annotated[Path | None, typer.Option(
        "--warm-start", help="A `kgrec train` output to fine-tune from (an incremental run's new "
        "events).")] = None,
    config: ConfigOption = None,
) -> None:
    """Train the time-aware model on events + a graph snapshot; print its report."""
    from kg.snapshot import require_snapshot
    from pipelines.outputs import require_complete, require_output_dir
    from pipelines.steps.gnn import train_on_ray, train_step

    overrides = {"gnn": {"device": device}} if device else None
    with user_errors():
        settings = settings_from(config, overrides)
        require_snapshot(snapshot)  # the inputs first: torch takes seconds to import
        require_complete(events, "ingest", "--events")
        require_output_dir(out)
        if ray:
            from pipelines.ray_runtime import ensure_ray

            ensure_ray(settings.ray)
            report = train_on_ray(settings.gnn, events, snapshot, out, baseline, warm_start)
        else:
            report = train_step(settings.gnn, events, snapshot, out, baseline, warm_start)
    typer.echo(report.model_dump_json(indent=2))


@embed_app.command("export")
def embed_export(
    as_of: Annotated[datetime, typer.Option("--as-of", help="ISO time (UTC if no zone).")],
    out: Annotated[Path, typer.Option("--out", help="Root of embedding versions.")],
    model: Annotated[Path, typer.Option("--model", help="A `kgrec train` output directory.")],
    version: Annotated[str | None, typer.Option("--version", help="Default: v<UTC time>.")] = None,
    events: Annotated[Path | None, typer.Option(
        "--events", help="An ingest output to replay (default: the one the model trained on). "
        "Users and items new since training get embeddings too.")] = None,
    snapshot: Annotated[Path | None, typer.Option(
        "--snapshot", help="A graph snapshot for item text and knowledge "
        "(default: the training one).")] = None,
    config: ConfigOption = None,
) -> None:
    """Write user and item embeddings at a time as a new, never-overwritten version."""
    from pipelines.steps.gnn import export_step

    moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    with user_errors():
        report = export_step(settings_from(config).gnn, model, moment, out, version, events, snapshot)
    typer.echo(report.model_dump_json(indent=2))
