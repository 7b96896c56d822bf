"""`kgrec cache ...`, `kgrec embed publish`, `kgrec serve` and `kgrec eval ctr`: embeddings to rankers.

`register_embed_commands` adds `publish` to whichever `embed` group the CLI builds, so the GNN
stage's `kgrec embed export` and this command share one group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from kg import servers
from pipelines.cli.common import ConfigOption, settings_from, user_errors

cache_app = typer.Typer(no_args_is_help=True, help="The embedding cache (embedded Redis).")
eval_app = typer.Typer(no_args_is_help=True, help="Evaluations.")


@cache_app.command("start")
def cache_start(config: ConfigOption = None) -> None:
    """Start the embedded Redis (a no-op when it is running)."""
    from serving.connection import start_embedded

    with user_errors():
        cache = settings_from(config).cache
        info = start_embedded(cache)
    typer.echo(f"running: pid {info.pid}, {info.url}, data in {info.data_dir}")


@cache_app.command("stop")
def cache_stop(config: ConfigOption = None) -> None:
    """Stop the embedded Redis by its pid (published versions stay in its AOF)."""
    with user_errors():
        cache = settings_from(config).cache
        stopped = servers.stop(cache.state_dir)
    typer.echo("stopped" if stopped else "not running")


@cache_app.command("status")
def cache_status(config: ConfigOption = None) -> None:
    """Say where the cache is, the live version and the versions kept; exit 1 if unreachable."""
    from serving.connection import cache_url, sync_redis
    from serving.keys import KeySpace, as_text

    with user_errors():
        cache = settings_from(config).cache
        if not cache.url and servers.status(cache.state_dir) is None:
            typer.echo(f"not running ({cache.state_dir})")
            raise typer.Exit(code=1)
        keys = KeySpace(cache.key_prefix)
        url = cache_url(cache)
        with sync_redis(cache, url) as r:
            live = r.get(keys.live)
            kept = [as_text(v) for v in r.zrange(keys.versions, 0, -1)]
    typer.echo(f"{url.split('@')[-1]}: live {as_text(live) if live else 'none'}; "
               f"versions kept: {', '.join(kept) or 'none'}")


def embed_publish(
    version: Annotated[str, typer.Option("--version", help="Version to publish (a directory under --dir).")],
    exports_dir: Annotated[
        Path | None, typer.Option("--dir", help="Exports directory; default cache.exports_dir.")] = None,
    items: Annotated[
        Path | None, typer.Option("--items", help="An ingest items table: category means for cold items.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Load an exported version into the cache and make it live (idempotent, resumable)."""
    from serving.connection import sync_redis
    from serving.export import read_export
    from serving.keys import KeySpace
    from serving.publish import publish

    with user_errors():
        cache = settings_from(config).cache
        export = read_export((exports_dir or cache.exports_dir) / version)
        categories = _categories(items) if items else None
        with sync_redis(cache) as r:
            report = publish(r, KeySpace(cache.key_prefix), export, keep=cache.keep_versions,
                             batch=cache.publish_batch, categories=categories)
    typer.echo(report.model_dump_json(indent=2))


def _categories(items: Path) -> dict[str, str]:
    import polars as pl

    from kg.errors import reading

    with reading(items, "an items table (Parquet with item_id, category)",
                 "pass an ingest output's items/ as --items"):
        frame = pl.read_parquet(items, columns=["item_id", "category"]).drop_nulls()
    return dict(zip(frame["item_id"].to_list(), frame["category"].to_list(), strict=True))


def register_embed_commands(embed_app: typer.Typer) -> None:
    """Add this module's `embed` subcommands to the shared `embed` group."""
    embed_app.command("publish")(embed_publish)


def serve(config: ConfigOption = None) -> None:
    """Serve embeddings over HTTP (FastAPI + uvicorn) on serve.host:serve.port.

    Bearer tokens come from the variables serve.token_env names (KGREC_API_TOKENS); a host
    other machines reach is refused without one unless serve.allow_unauthenticated is set.
    """
    import uvicorn

    from serving.api import create_app
    from serving.connection import cache_url

    with user_errors():
        settings = settings_from(config)
        url = cache_url(settings.cache)  # fail fast with a clear message if the cache is not there
        require_free_port(settings.serve.host, settings.serve.port)
        app = create_app(settings.cache, settings.serve, url)  # tokens read, exposure checked
    uvicorn.run(app, host=settings.serve.host, port=settings.serve.port, log_level="warning")


def require_free_port(host: str, port: int, section: str = "serve") -> None:
    """Refuse a listen address that is taken, before uvicorn logs its own error and exits 1."""
    import socket

    from kg.errors import ConfigError

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise ConfigError(f"{section}.port {port} on {host} cannot be listened on ({e.strerror}); stop "
                              f"what holds it, or set {section}.port (KGREC_{section.upper()}__PORT)") from e


@eval_app.command("ctr")
def eval_ctr(
    dataset: Annotated[Literal["movielens", "online-retail", "instacart", "events"], typer.Option(
        "--dataset", help="Which data: the shared datasets, or `events` of a kgrec ingest output.")],
    model: Annotated[Path | None, typer.Option(
        "--model", help="A trained model directory: export it at ctr.embedding_versions times across "
        "the training window and at the test split (into OUT/embeddings), point in time.")] = None,
    embeddings: Annotated[list[Path] | None, typer.Option(
        "--embeddings", help="Instead of --model: export version directories (<dir>/<version>; "
        "repeat for several). Each sample reads the latest one made before it.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for results and ranker files.")] = Path(
        "runs/ctr"),
    ingest: Annotated[Path | None, typer.Option(
        "--ingest", help="With --dataset events: the ingest output (events/, items/).")] = None,
    config: ConfigOption = None,
) -> None:
    """Train DeepFM and DIN with ids only, + text embeddings, + kgrec embeddings; print the table."""
    from kg.errors import ConfigError
    from pipelines.steps.ctr import ctr_step, export_versions, load_dataset

    with user_errors():
        if (model is None) == (not embeddings):
            raise ConfigError("give either --model (a trained model) or --embeddings (exports)")
        settings = settings_from(config)
        data = load_dataset(settings.ctr, dataset, ingest)
        versions = embeddings or []
        if model is not None:
            versions = export_versions(settings.gnn, model, data, settings.ctr.embedding_versions,
                                       out / "embeddings")
        report, table = ctr_step(settings.ctr, data, versions, out)
    typer.echo(table)
    typer.echo(report.model_dump_json(indent=2))
