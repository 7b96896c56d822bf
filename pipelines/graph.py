"""Glue between the config and the knowledge graph.

Opens the configured store, turns mined pairs into relations to load, and runs the load and
snapshot steps for the CLI and `kgrec run`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from kg.arrow_schema import conform
from kg.backends import falkordb_server
from kg.errors import ConfigError, StoreUnavailable
from kg.load import RetryPolicy, load_directory
from kg.schema import Concept, Relation, RelationType, relation_id
from kg.snapshot import write_snapshot
from kg.store import GraphStore
from pipelines.config import GraphSection
from pipelines.outputs import count_rows, require_complete
from pipelines.progress import progress_bar
from pipelines.report import StageReport, Timer

log = logging.getLogger("kgrec")

BEHAVIOUR_MODEL = "cooccurrence"


def make_store(settings: GraphSection) -> GraphStore:
    """The configured store, not yet connected.

    Raises:
        StoreUnavailable: the embedded server is not running (`kgrec graph start`).
        ConfigError: Neo4j is configured without a password.
    """
    if settings.backend == "neo4j":
        from kg.backends.neo4j import Neo4jStore

        if settings.neo4j_password is None:
            raise ConfigError("graph.neo4j_password is not set (KGREC_GRAPH__NEO4J_PASSWORD)")
        assert settings.neo4j_uri  # checked by GraphSection
        return Neo4jStore(settings.neo4j_uri, settings.neo4j_user,
                          settings.neo4j_password.get_secret_value(), settings.neo4j_database)
    from kg.backends.falkordb import FalkorDBStore

    if settings.falkordb_url is not None:
        return FalkorDBStore(settings.falkordb_url, settings.graph_name, lease_s=settings.load_lease_s)
    info = falkordb_server.status(settings.state_dir)
    if info is None:
        raise StoreUnavailable("embedded FalkorDB",
                               f"not running for {settings.state_dir}; start it with `kgrec graph start`")
    return FalkorDBStore(info.url, settings.graph_name, lease_s=settings.load_lease_s,
                         identity=f"embedded:{settings.state_dir.resolve()}:{settings.graph_name}")


@contextlib.contextmanager
def embedded_server_for_run(settings: GraphSection) -> Iterator[None]:
    """Start the embedded server for the duration of a run if it is not running already."""
    if settings.backend != "falkordb" or settings.falkordb_url or falkordb_server.status(settings.state_dir):
        yield
        return
    falkordb_server.start(settings.state_dir, settings.port)
    try:
        yield
    finally:
        falkordb_server.stop(settings.state_dir)


def _evidence_id(pairs: pl.DataFrame) -> str:
    """A content hash of the mined pairs: mining the same data again yields the same id."""
    columns = pairs.select("item_a", "item_b", "n_ab", "first_seen", "last_seen").sort("item_a", "item_b")
    return "pairs:" + hashlib.sha256(columns.write_csv().encode()).hexdigest()[:24]


def build_graph_input(ingest_dir: Path, candidates_dir: Path, run_id: str, out_dir: Path,
                      extract_dir: Path | None = None) -> dict[str, int]:
    """Items, behavioural CO_PURCHASED relations and extracted knowledge, ready for `graph load`.

    Extracted relations and concepts (from `kgrec extract`) are added as they are when
    `extract_dir` is given. Behavioural confidence is the pair's NPMI clipped to [0, 1];
    support is its basket count.
    The evidence id is a content hash of the pairs, so re-running on the same data adds no
    support twice, while a run over new data does.
    """
    require_complete(ingest_dir, "ingest")
    require_complete(candidates_dir, "candidates")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "items").mkdir(exist_ok=True)
    (out_dir / "relations").mkdir(exist_ok=True)
    items = pl.scan_parquet(str(ingest_dir / "items" / "*.parquet")).select(
        "item_id", "title", "category", "brand")
    items.sink_parquet(out_dir / "items" / "part-00000.parquet")
    pairs = pl.read_parquet(candidates_dir / "pairs")
    ids = [relation_id(a, RelationType.CO_PURCHASED, b)
           for a, b in zip(pairs["item_a"], pairs["item_b"], strict=True)]
    relations = pairs.select(
        pl.Series("id", ids, dtype=pl.String),
        pl.col("item_a").alias("head"),
        pl.lit(RelationType.CO_PURCHASED.value).alias("type"),
        pl.col("item_b").alias("tail"),
        pl.lit(None, pl.String).alias("tail_text"),
        pl.col("npmi").clip(0.0, 1.0).alias("confidence"),
        pl.col("n_ab").alias("support"),
        pl.col("lift"),
        pl.col("first_seen"),
        pl.col("last_seen"),
        pl.lit(BEHAVIOUR_MODEL).alias("model"),
        pl.lit("n/a").alias("prompt_version"),
        pl.format("together in {} baskets, lift {}", pl.col("n_ab"), pl.col("lift").round(1))
        .alias("rationale"),
        pl.lit(run_id).alias("run_id"),
        pl.lit(_evidence_id(pairs)).alias("evidence_id"),
    )
    pq.write_table(conform(relations.to_arrow(), Relation), out_dir / "relations" / "part-00000.parquet")
    counts = {"items": count_rows(out_dir / "items"), "relations": relations.height}
    if extract_dir is not None:
        require_complete(extract_dir, "extract")
        extracted = conform(pq.read_table(extract_dir / "relations"), Relation)
        pq.write_table(extracted, out_dir / "relations" / "part-00001.parquet")
        (out_dir / "concepts").mkdir(exist_ok=True)
        concepts = conform(pq.read_table(extract_dir / "concepts"), Concept)
        pq.write_table(concepts, out_dir / "concepts" / "part-00000.parquet")
        counts |= {"relations": counts["relations"] + extracted.num_rows, "concepts": concepts.num_rows}
    return counts


def load_step(settings: GraphSection, in_dir: Path) -> StageReport:
    """`graph load`: load `in_dir` into the configured store, with progress and retries."""
    timer = Timer()
    total = count_rows(in_dir / "relations")
    policy = RetryPolicy(max_retries=settings.max_retries, backoff_s=settings.retry_backoff_s)
    with make_store(settings) as store, progress_bar("graph load", total=total) as advance:
        report = load_directory(store, in_dir, settings.batch_size, policy, advance, settings.writers)
        counts = store.counts()
    return StageReport(
        name="graph_load",
        rows={"items": report.items, "concepts": report.concepts,
              "relations_read": report.relations_read, "relations_counted": report.relations_counted,
              "graph_nodes": int(counts["nodes"]), "graph_relations": int(counts["relations"])},
        bad_rows={f"relations: {k}": v for k, v in report.quarantined.items()},
        wall_s=timer.elapsed(),
        outputs={"store": store.name, "quarantine": str(in_dir / "_load" / "quarantine")},
        details={"batches": report.batches, "resumed_after_batch": report.resumed_after_batch},
    )


def snapshot_step(settings: GraphSection, as_of: datetime, out_dir: Path) -> StageReport:
    """`graph snapshot`: the graph at `as_of` with the configured statuses, to Parquet."""
    timer = Timer()
    with make_store(settings) as store:
        manifest = write_snapshot(store, as_of, settings.snapshot_statuses, out_dir, settings.snapshot_time)
    stats = manifest["statistics"]
    return StageReport(
        name="snapshot",
        rows={"relations": manifest["relations"], "items": manifest["items"],
              "concepts": manifest["concepts"]},
        wall_s=timer.elapsed(),
        outputs={"dir": str(out_dir)},
        details={"components": stats["components"], "largest_component": stats["largest_component"],
                 "degree_max": stats["degree_max"], "degree_median": stats["degree_median"]},
    )
