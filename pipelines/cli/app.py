"""The `kgrec` root command: its groups, `kgrec run` and `kgrec config show`.

Every stage is a subcommand, so each works under `ray job submit`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.markdown import Markdown

from pipelines import logs
from pipelines.cli.common import (
    ConfigOption,
    SinceOption,
    console,
    error,
    parse_since,
    settings_from,
    user_errors,
)
from pipelines.cli.concepts import merge_concepts, split_concept
from pipelines.cli.extract import extract_app
from pipelines.cli.gnn import embed_app, train
from pipelines.cli.graph import curate_app, graph_app
from pipelines.cli.refine import refine_app
from pipelines.cli.serving import cache_app, eval_app, register_embed_commands, serve
from pipelines.cli.stages import candidates, data_app, ingest

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Behaviour logs -> knowledge graph -> embeddings for rankers.")
config_app = typer.Typer(no_args_is_help=True, help="Inspect the configuration.")


@app.callback()
def _root(verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Also Ray's and Ray Data's own console logging (Ray Data's progress "
        "lines, cluster start-up notices) and kgrec's debug lines.")] = False) -> None:
    logs.configure(verbose)


app.add_typer(config_app, name="config")
app.add_typer(data_app, name="data")
app.add_typer(graph_app, name="graph")
curate_app.command("merge-concepts")(merge_concepts)
curate_app.command("split-concept")(split_concept)
app.add_typer(curate_app, name="curate")
app.add_typer(extract_app, name="extract")
app.add_typer(refine_app, name="refine")
app.add_typer(embed_app, name="embed")
app.command()(train)


@app.command()
def run(
    config: ConfigOption = None,
    clear_graph: Annotated[bool, typer.Option(
        "--clear-graph", help="When the graph holds another dataset's data, delete all of it (curators' "
        "decisions too) instead of stopping (graph.clear_graph).")] = False,
    since: SinceOption = None,
    previous: Annotated[Path | None, typer.Option(
        "--previous", help="With --since: the run directory to add to (default: the newest succeeded run "
        "under run.runs_dir).")] = None,
) -> None:
    """Run every stage end to end into a new run directory (runs/<run_id>/).

    The graph is the dataset's own (`kgrec config show` names it) unless graph.graph_name says
    otherwise; a run that finds another dataset's data there stops before any work.
    """
    from pipelines.run import Increment, previous_run, run_pipeline

    with user_errors():
        overrides = {"graph": {"clear_graph": True}} if clear_graph else None
        settings = settings_from(config, overrides)
        start = parse_since(since)
        if start is None and previous is not None:
            raise error("--previous goes with --since (the time of the first new event)")
        increment = Increment(start, previous_run(settings.run.runs_dir, previous)) if start else None
        result = run_pipeline(settings, increment)
    # The report the run wrote (rendering it again would re-read every stage's outputs): drawn on
    # a terminal, as the Markdown it is in a log (rich would crop its long lines to 80 columns).
    report = (result.path / "report.md").read_text()
    if console.is_terminal:
        console.print(Markdown(report))
    else:
        typer.echo(report, err=True)
    typer.echo(str(result.path))


app.command()(ingest)
app.command()(candidates)

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


# Embeddings to rankers: `embed` holds the GNN stage's `export` and the cache's `publish`.
register_embed_commands(embed_app)
app.add_typer(cache_app, name="cache")
app.add_typer(eval_app, name="eval")
app.command("serve")(serve)
