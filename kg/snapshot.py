"""Point-in-time snapshots of the curated graph: what the GNN stage reads.

`write_snapshot` pages through the store (keyset pagination, bounded memory on the
driver) and writes `items.parquet`, `concepts.parquet`, `relations.parquet` and
`manifest.json` (as-of time, statuses, counts, graph statistics).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import networkx as nx
import pyarrow as pa
import pyarrow.parquet as pq

from kg import cypher
from kg.arrow_schema import TIMESTAMP
from kg.errors import InputDataError, reading
from kg.schema import ITEM_RELATIONS, CurationStatus, RelationType, SnapshotTime
from kg.store import ITEM_PARAMS, GraphStore

SNAPSHOT_FILES = ("relations.parquet", "items.parquet", "concepts.parquet", "manifest.json")
RELATION_SCHEMA = pa.schema([
    ("id", pa.string()), ("type", pa.string()), ("head", pa.string()), ("tail", pa.string()),
    ("status", pa.string()), ("confidence", pa.float64()), ("support", pa.int64()),
    ("lift", pa.float64()), ("first_seen", TIMESTAMP), ("last_seen", TIMESTAMP), ("model", pa.string()),
    # the refine stage's decision (null for relations nothing decided, e.g. behavioural ones)
    ("critic_score", pa.float64()), ("decided_by", pa.string()), ("proposed_type", pa.string()),
])
ITEM_SCHEMA = ITEM_PARAMS  # a snapshot's items have the columns the store was given
CONCEPT_SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("kind", pa.string())])


def _write_pages(store: GraphStore, query: str, params: dict[str, Any], schema: pa.Schema,
                 path: Path, on_page: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
    """Stream a paginated statement's rows to one Parquet file (times: epoch ms -> UTC)."""
    with pq.ParquetWriter(path, schema) as writer:
        for page in store.pages(query, params):
            for row in page:
                for column in ("first_seen", "last_seen"):
                    if column in row and row[column] is not None:
                        row[column] = datetime.fromtimestamp(row[column] / 1000, UTC)
            writer.write_table(pa.Table.from_pylist(page, schema=schema))
            if on_page:
                on_page(page)
        writer.write_table(schema.empty_table())


def graph_statistics(edges: list[dict[str, Any]], top: int = 10) -> dict[str, Any]:
    """Degree distribution, components and the most connected concepts, via networkx."""
    graph = nx.Graph()
    graph.add_edges_from((e["head"], e["tail"]) for e in edges)
    degrees = sorted((d for _, d in graph.degree()), reverse=True)
    components = sorted((len(c) for c in nx.connected_components(graph)), reverse=True)
    concept_degree = Counter(e["tail"] for e in edges if RelationType(e["type"]) not in ITEM_RELATIONS)
    histogram: Counter[str] = Counter()
    for degree in degrees:  # log2 bins: 1, 2-3, 4-7, 8-15, ...
        low = 1 << (degree.bit_length() - 1)
        histogram[f"{low}-{2 * low - 1}" if low > 1 else "1"] += 1
    return {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "relations_by_type": dict(Counter(e["type"] for e in edges)),
        "degree_max": degrees[0] if degrees else 0,
        "degree_median": degrees[len(degrees) // 2] if degrees else 0,
        "degree_histogram": dict(sorted(histogram.items(), key=lambda kv: int(kv[0].split("-")[0]))),
        "components": len(components),
        "largest_component": components[0] if components else 0,
        "top_concepts": concept_degree.most_common(top),
    }


def require_snapshot(path: Path) -> None:
    """Refuse a directory that is no readable snapshot, from its files' presence and footers alone.

    Cheap (no table is read), so a command checks it before importing the model code.

    Raises:
        InputDataError: naming the directory and the first file it lacks, or the file that
            cannot be read.
    """
    for name in SNAPSHOT_FILES:
        if not (path / name).is_file():
            raise InputDataError(str(path), f"not a graph snapshot: {name} is missing "
                                 "(write one with `kgrec graph snapshot`)")
    with reading(path, "a graph snapshot", "write it again with `kgrec graph snapshot`"):
        json.loads((path / "manifest.json").read_text())
        for name in SNAPSHOT_FILES[:3]:
            pq.read_metadata(path / name)


_END_OF_TIME_MS = 2**62  # "loaded by the end of time": no system-time filter


def write_snapshot(store: GraphStore, as_of: datetime, statuses: list[CurationStatus],
                   out_dir: Path, time: SnapshotTime = SnapshotTime.LOADED_AND_EVIDENCE) -> dict[str, Any]:
    """Write the graph as it stood at `as_of` to `out_dir`.

    `LOADED_AND_EVIDENCE`: what the graph held at `as_of` - loaded by then (system time) with
    evidence starting by then (event time). `EVIDENCE`: event time only, for backfills - history
    loaded today, snapshotted at a past `as_of` (system time would leave nothing); items and
    concepts are then all included.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    as_of_ms = int(as_of.timestamp() * 1000)
    loaded_by = {"loaded_by": as_of_ms if time == SnapshotTime.LOADED_AND_EVIDENCE else _END_OF_TIME_MS}
    edges: list[dict[str, Any]] = []
    _write_pages(store, cypher.SNAPSHOT_RELATIONS,
                 {"as_of": as_of_ms, **loaded_by, "statuses": [s.value for s in statuses]},
                 RELATION_SCHEMA, out_dir / "relations.parquet",
                 on_page=lambda page: edges.extend(
                     {"head": r["head"], "tail": r["tail"], "type": r["type"]} for r in page))
    _write_pages(store, cypher.SNAPSHOT_ITEMS, loaded_by, ITEM_SCHEMA, out_dir / "items.parquet")
    _write_pages(store, cypher.SNAPSHOT_CONCEPTS, loaded_by, CONCEPT_SCHEMA, out_dir / "concepts.parquet")
    manifest = {
        "as_of": as_of.astimezone(UTC).isoformat(),
        "time": time.value,
        "statuses": [s.value for s in statuses],
        "store": store.name,
        "relations": len(edges),
        "items": pq.read_metadata(out_dir / "items.parquet").num_rows,
        "concepts": pq.read_metadata(out_dir / "concepts.parquet").num_rows,
        "statistics": graph_statistics(edges),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest
