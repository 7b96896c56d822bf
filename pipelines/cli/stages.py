"""`kgrec data synth`, `kgrec ingest` and `kgrec candidates`: the stages before the LLM."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from pipelines.cli.common import ConfigOption, SinceOption, parse_since, settings_from, user_errors
from pipelines.config import IngestFormat

data_app = typer.Typer(no_args_is_help=True, help="Generate data.")


@data_app.command("synth")
def data_synth(
    out: Annotated[Path, typer.Option("--out", help="Directory to write into.")],
    events: Annotated[int | None, typer.Option("--events", help="Events to generate.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    config: ConfigOption = None,
) -> None:
    """Write a synthetic log (events/, items.parquet) and its ground truth."""
    from pipelines.outputs import require_output_dir
    from pipelines.synth.job import generate

    overrides = {k: v for k, v in {"events": events, "seed": seed}.items() if v is not None}
    with user_errors():
        settings = settings_from(config, {"synth": overrides})
        require_output_dir(out)
        result = generate(settings.synth, out)
    typer.echo(result.model_dump_json(indent=2))


def ingest(
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    events: Annotated[str | None, typer.Option(
        "--events", help="Events file, directory or URI (leave out to read a catalog alone).")] = None,
    items: Annotated[str | None, typer.Option("--items", help="Items file, directory or URI.")] = None,
    fmt: Annotated[IngestFormat | None, typer.Option("--format", help="Source format.")] = None,
    since: SinceOption = None,
    config: ConfigOption = None,
) -> None:
    """Read raw logs into canonical events/items tables and a quarantine (with --since: new events only)."""
    from pipelines.ingest.job import run_ingest, source_files
    from pipelines.outputs import require_output_dir
    from pipelines.ray_runtime import ensure_ray

    given = {"events_path": events, "items_path": items, "format": fmt}
    overrides: dict[str, Any] = {key: value for key, value in given.items() if value is not None}
    with user_errors():
        settings = settings_from(config, {"ingest": overrides})
        start = parse_since(since)
        source_files(settings.ingest)  # fail fast on a wrong path, before paying for Ray's start-up
        require_output_dir(out)
        ensure_ray(settings.ray)
        report = run_ingest(settings.ingest, out, since=start)
    typer.echo(report.model_dump_json(indent=2))


def candidates(
    in_dir: Annotated[Path, typer.Option("--in", help="An ingest output directory.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    budget: Annotated[int | None, typer.Option("--budget", help="Pairs for the LLM stage.")] = None,
    since: SinceOption = None,
    previous: Annotated[Path | None, typer.Option(
        "--previous", help="Incremental: the previous candidates output whose counts the new events add to "
        "(with --since).")] = None,
    config: ConfigOption = None,
) -> None:
    """Mine co-occurring item pairs and query->item pairs from ingested events (or add new ones)."""
    from pipelines.candidates.job import run_candidates
    from pipelines.candidates.periods import check_increment
    from pipelines.outputs import require_complete, require_output_dir
    from pipelines.ray_runtime import ensure_ray

    with user_errors():
        overrides = {"candidates": {"llm_budget": budget}} if budget is not None else None
        settings = settings_from(config, overrides)
        start = parse_since(since)
        require_complete(in_dir, "ingest", "--in")  # fail fast, before paying for Ray's start-up
        check_increment(previous, start)
        require_output_dir(out)
        ensure_ray(settings.ray)
        report = run_candidates(settings.candidates, in_dir, out, start, previous)
    typer.echo(report.model_dump_json(indent=2))
