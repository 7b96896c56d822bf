"""The `kgrec` command line. Every stage is a subcommand, so each works under `ray job submit`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markdown import Markdown

from pipelines.cli_common import ConfigOption, console, settings_from, user_errors
from pipelines.cli_extract import extract_app
from pipelines.cli_gnn import embed_app, train
from pipelines.cli_graph import curate_app, graph_app
from pipelines.cli_serving import cache_app, eval_app, register_embed_commands, serve
from pipelines.config import IngestFormat

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Behaviour logs -> knowledge graph -> embeddings for rankers.")
config_app = typer.Typer(no_args_is_help=True, help="Inspect the configuration.")
data_app = typer.Typer(no_args_is_help=True, help="Generate data.")
app.add_typer(config_app, name="config")
app.add_typer(data_app, name="data")
app.add_typer(graph_app, name="graph")
app.add_typer(curate_app, name="curate")
app.add_typer(extract_app, name="extract")
app.add_typer(embed_app, name="embed")
app.command()(train)


@app.command()
def run(config: ConfigOption = None) -> None:
    """Run every stage end to end into a new run directory (runs/<run_id>/)."""
    from pipelines.run import run_pipeline

    with user_errors():
        result = run_pipeline(settings_from(config))
    # The report the run wrote (rendering it again would re-read every stage's outputs).
    console.print(Markdown((result.path / "report.md").read_text()))
    typer.echo(str(result.path))


@config_app.command("show")
def config_show(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of YAML.")] = False,
) -> None:
    """Print the effective configuration (defaults, then file, then environment)."""
    with user_errors():
        settings = settings_from(config)
    data = settings.model_dump(mode="json")
    typer.echo(json.dumps(data, indent=2) if as_json else yaml.safe_dump(data, sort_keys=False))


@data_app.command("synth")
def data_synth(
    out: Annotated[Path, typer.Option("--out", help="Directory to write into.")],
    events: Annotated[int | None, typer.Option("--events", help="Events to generate.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    config: ConfigOption = None,
) -> None:
    """Write a synthetic log (events/, items.parquet) and its ground truth."""
    from pipelines.synth.job import generate

    overrides = {k: v for k, v in {"events": events, "seed": seed}.items() if v is not None}
    with user_errors():
        settings = settings_from(config, {"synth": overrides})
    result = generate(settings.synth, out)
    typer.echo(result.model_dump_json(indent=2))


@app.command()
def ingest(
    events: Annotated[str, typer.Option("--events", help="Events file, directory or URI.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    items: Annotated[str | None, typer.Option("--items", help="Items file, directory or URI.")] = None,
    fmt: Annotated[IngestFormat | None, typer.Option("--format", help="Source format.")] = None,
    config: ConfigOption = None,
) -> None:
    """Read raw logs into canonical events/items tables and a quarantine."""
    from pipelines.ingest.job import run_ingest
    from pipelines.ingest.sources import list_files
    from pipelines.ray_runtime import ensure_ray

    overrides: dict[str, Any] = {"events_path": events, "items_path": items}
    if fmt is not None:
        overrides["format"] = fmt
    with user_errors():
        settings = settings_from(config, {"ingest": overrides})
        list_files(events)  # fail fast on a wrong path, before paying for Ray's start-up
        ensure_ray(settings.ray)
        report = run_ingest(settings.ingest, out)
    typer.echo(report.model_dump_json(indent=2))


@app.command()
def candidates(
    in_dir: Annotated[Path, typer.Option("--in", help="An ingest output directory.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    budget: Annotated[int | None, typer.Option("--budget", help="Pairs for the LLM stage.")] = None,
    config: ConfigOption = None,
) -> None:
    """Mine co-occurring item pairs and query->item pairs from ingested events."""
    from pipelines.candidates.job import run_candidates
    from pipelines.outputs import require_complete
    from pipelines.ray_runtime import ensure_ray

    with user_errors():
        overrides = {"candidates": {"llm_budget": budget}} if budget is not None else None
        settings = settings_from(config, overrides)
        require_complete(in_dir, "ingest")  # fail fast, before paying for Ray's start-up
        ensure_ray(settings.ray)
        report = run_candidates(settings.candidates, in_dir, out)
    typer.echo(report.model_dump_json(indent=2))


# Embeddings to rankers: `embed` holds the GNN stage's `export` and the cache's `publish`.
register_embed_commands(embed_app)
app.add_typer(cache_app, name="cache")
app.add_typer(eval_app, name="eval")
app.command("serve")(serve)


if __name__ == "__main__":
    app()
