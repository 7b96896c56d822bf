"""The `kgrec` root command: its groups, `kgrec run` and `kgrec config show`.

Every stage is a subcommand, so each works under `ray job submit`.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
import yaml
from rich.markdown import Markdown

from pipelines.cli.common import ConfigOption, console, settings_from, user_errors
from pipelines.cli.extract import extract_app
from pipelines.cli.gnn import embed_app, train
from pipelines.cli.graph import curate_app, graph_app
from pipelines.cli.refine import refine_app
from pipelines.cli.serving import cache_app, eval_app, register_embed_commands, serve
from pipelines.cli.stages import candidates, data_app, ingest

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Behaviour logs -> knowledge graph -> embeddings for rankers.")
config_app = typer.Typer(no_args_is_help=True, help="Inspect the configuration.")
app.add_typer(config_app, name="config")
app.add_typer(data_app, name="data")
app.add_typer(graph_app, name="graph")
app.add_typer(curate_app, name="curate")
app.add_typer(extract_app, name="extract")
app.add_typer(refine_app, name="refine")
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
