"""`kgrec graph ...` and `kgrec curate ...`: the knowledge-graph store and its curation."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from kg.backends.falkordb import server as falkordb_server
from kg.config import GraphSection
from kg.schema import CurationStatus, SnapshotTime
from pipelines.cli.common import ConfigOption, GraphOption, console, settings_from, user_errors

if TYPE_CHECKING:
    from serving.workbench.app import CriticSummary

graph_app = typer.Typer(no_args_is_help=True, help="The knowledge-graph store.")
curate_app = typer.Typer(no_args_is_help=True, help="Review relations: list, accept, reject, export, ui.")


@graph_app.command("start")
def graph_start(config: ConfigOption = None) -> None:
    """Start the embedded FalkorDB server (a no-op when it is running)."""
    with user_errors():
        settings = settings_from(config).graph
        info = falkordb_server.start(settings.state_dir, settings.port)
    typer.echo(f"running: pid {info.pid}, {info.url}, data in {info.data_dir}")


@graph_app.command("stop")
def graph_stop(config: ConfigOption = None) -> None:
    """Stop the embedded FalkorDB server (its data stays in the state directory)."""
    with user_errors():
        settings = settings_from(config).graph
        stopped = falkordb_server.stop(settings.state_dir)
    typer.echo("stopped" if stopped else "not running")


@graph_app.command("status")
def graph_status(config: ConfigOption = None, graph: GraphOption = None) -> None:
    """Say whether the embedded server runs; the config's graph's size, and every graph the store holds.

    Each dataset has a graph of its own (`kgrec config show` prints the config's); the list
    names them with the dataset each holds, for `--graph` or graph.graph_name. Exit 1 when
    the embedded server is not running.
    """
    from kg.factory import make_store

    with user_errors():
        settings = settings_from(config, graph=graph).graph
        info = falkordb_server.status(settings.state_dir) if settings.backend == "falkordb" else None
        if settings.backend == "falkordb" and not settings.falkordb_url and info is None:
            typer.echo(f"not running ({settings.state_dir})")
            raise typer.Exit(code=1)
        with make_store(settings) as store:
            counts = store.counts()
            name, others = store.name, store.graphs()
        lines = [_graph_line(settings.model_copy(update={"graph_name": other}), other == settings.graph)
                 for other in others]
    typer.echo(f"{name}: {counts['nodes']:,} nodes, {counts['relations']:,} relations")
    if lines:
        typer.echo("graphs in this store (`--graph NAME` or graph.graph_name picks one; * this config's):")
        typer.echo("\n".join(lines))


def _graph_line(settings: GraphSection, current: bool) -> str:
    """One graph of the store: its name, the datasets it holds and its size."""
    from kg.factory import make_store

    with make_store(settings) as store:
        counts, held = store.counts(), store.datasets()
    datasets = "; ".join(mark.description for mark in held) or "no dataset marked"
    return (f"{'*' if current else ' '} {settings.graph}: {datasets}; {counts['nodes']:,} nodes, "
            f"{counts['relations']:,} relations")


@graph_app.command("load")
def graph_load(
    in_dir: Annotated[Path, typer.Option(
        "--in", help="A graph input: items/ and relations/ (+ concepts/), as `kgrec refine` writes it.")],
    config: ConfigOption = None,
    graph: GraphOption = None,
) -> None:
    """Load relations idempotently; re-running resumes after the last finished batch.

    A directory without items/ is refused: its relations' items would all be quarantined.
    """
    from pipelines.steps.graph import load_step

    with user_errors():
        settings = settings_from(config, graph=graph)
        report = load_step(settings.graph, in_dir, settings.dataset)
    typer.echo(report.model_dump_json(indent=2))


@graph_app.command("snapshot")
def graph_snapshot(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the snapshot into.")],
    as_of: Annotated[
        datetime | None, typer.Option("--as-of", help="ISO time (UTC if no zone); default now.")
    ] = None,
    time: Annotated[SnapshotTime | None, typer.Option(
        "--time", help="Which clock: what the graph held at T, or evidence by T only (backfills); "
        "default graph.snapshot_time.")] = None,
    config: ConfigOption = None,
    graph_name: GraphOption = None,
) -> None:
    """Write the graph as it stood at a point in time to Parquet, with a manifest."""
    from pipelines.steps.graph import snapshot_step

    moment = (as_of or datetime.now(UTC))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    with user_errors():
        graph = settings_from(config, graph=graph_name).graph
        if time is not None:
            graph = graph.model_copy(update={"snapshot_time": time})
        report = snapshot_step(graph, moment, out)
    typer.echo(report.model_dump_json(indent=2))


@curate_app.command("list")
def curate_list(
    status: Annotated[
        CurationStatus, typer.Option(help="Which relations to show.")
    ] = CurationStatus.PROPOSED,
    limit: Annotated[int, typer.Option(help="How many.")] = 20,
    config: ConfigOption = None,
    graph: GraphOption = None,
) -> None:
    """The review queue, in the order a curator's labels teach the critic most.

    Relations the critic scored come first, by its uncertainty times support
    ((1 - |2 * critic - 1|) * support: a score of 0.5 is the most uncertain), then the
    unscored by support alone (before a critic exists, that is all of them); ties by id.
    `critic` is the critic's score, blank where it scored none.
    """
    from kg.factory import make_store

    with user_errors(), make_store(settings_from(config, graph=graph).graph) as store:
        rows = store.review_queue(status, limit)
    table = Table("id", "type", "head", "tail", "conf", "critic", "support", "model",
                  title=f"{status.value} relations")
    for r in rows:
        critic = "" if r["critic_score"] is None else f"{r['critic_score']:.2f}"
        table.add_row(r["id"], r["type"], r["head_title"] or r["head"], r["tail_title"] or r["tail"],
                      f"{r['confidence']:.2f}", critic, str(r["support"]), str(r["model"]))
    console.print(table)


def _decide(ids: list[str], status: CurationStatus, by: str | None, config: Path | None,
            graph: str | None) -> None:
    from kg.factory import make_store

    with user_errors(), make_store(settings_from(config, graph=graph).graph) as store:
        changed = store.set_status(ids, status, by or getpass.getuser())
    typer.echo(f"{status.value}: {len(changed)} relation(s)")


@curate_app.command("accept")
def curate_accept(
    ids: Annotated[list[str], typer.Argument(help="Relation ids (from `curate list`).")],
    by: Annotated[str | None, typer.Option(help="Curator name; default the OS user.")] = None,
    config: ConfigOption = None,
    graph: GraphOption = None,
) -> None:
    """Accept relations; later loads never change the decision."""
    _decide(ids, CurationStatus.ACCEPTED, by, config, graph)


@curate_app.command("reject")
def curate_reject(
    ids: Annotated[list[str], typer.Argument(help="Relation ids (from `curate list`).")],
    by: Annotated[str | None, typer.Option(help="Curator name; default the OS user.")] = None,
    config: ConfigOption = None,
    graph: GraphOption = None,
) -> None:
    """Reject relations; later loads never propose them again."""
    _decide(ids, CurationStatus.REJECTED, by, config, graph)


@curate_app.command("export")
def curate_export(
    out: Annotated[Path, typer.Option("--out", help="File to write: .parquet or .csv.")],
    config: ConfigOption = None,
    graph: GraphOption = None,
) -> None:
    """Every curated label (accepted or rejected) with its provenance and the critic's score.

    For precision scoring, for training a critic, and for how the critic fared against curators.
    """
    from kg.factory import make_store
    from kg.labels import export_labels

    with user_errors(), make_store(settings_from(config, graph=graph).graph) as store:
        labels = export_labels(store, out)
    typer.echo(f"{labels} label(s) -> {out}")


@curate_app.command("ui")
def curate_ui(
    by: Annotated[str | None, typer.Option(help="Default curator name; default the OS user.")] = None,
    config: ConfigOption = None,
    graph: GraphOption = None,
) -> None:
    """The curation workbench in a browser, on workbench.host:workbench.port (127.0.0.1:8010 by default).

    The review queue with filters, each relation's card with its evidence and history, one-key
    decisions (a accept, r reject, l relabel, s skip, j/k next/previous, u undo), bulk decisions,
    item neighbourhoods and progress, against the configured graph store. A host other
    machines reach needs a token in the variables workbench.token_env names (KGREC_WORKBENCH_TOKENS).
    """
    import uvicorn

    from kg.factory import make_store
    from pipelines.cli.serving import require_free_port
    from serving.workbench.app import create_app

    with user_errors():
        settings = settings_from(config, graph=graph)
        section = settings.workbench
        with make_store(settings.graph) as store:  # fail here, with the fix, when the store is not there
            name = store.name
        app = create_app(make_store(settings.graph), section, by or getpass.getuser(),  # tokens checked
                         critic=lambda: _critic_summary(settings.refine.critic_dir))
        require_free_port(section.host, section.port, "workbench")
    typer.echo(f"curation workbench for {name}: http://{section.host}:{section.port}/")
    uvicorn.run(app, host=section.host, port=section.port, log_level="warning")


def _critic_summary(root: Path) -> CriticSummary | None:
    """The newest critic's version and cross-validated precision per trained kind (for the workbench)."""
    from pipelines.refine.critic import newest_manifest
    from serving.workbench.app import CriticSummary

    newest = newest_manifest(root)
    if newest is None:
        return None
    manifest = newest[1]
    return CriticSummary(version=manifest.version,
                         precision={k.kind: k.precision for k in manifest.kinds if k.trained})
