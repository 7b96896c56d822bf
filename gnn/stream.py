"""Events + a graph snapshot -> one time-ordered edge stream for the temporal model.

The stream holds user->item interactions (scored: these are what link prediction predicts)
and, optionally, knowledge edges (item->item and item->concept relations of the snapshot, at
their `first_seen` time) that update memory and neighbourhoods but are never scored. Messages
are one-hot event type | one-hot relation type | relation confidence. At equal times events
come before knowledge, so an edge mined from a basket never precedes the basket itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
import torch
from torch_geometric.data import TemporalData

from gnn.ids import IdMap
from kg.errors import InputDataError, NoEventsYet, reading
from kg.schema import ITEM_RELATIONS, EventType, RelationType
from kg.snapshot import SNAPSHOT_FILES, require_snapshot

EVENT_TYPES = [e.value for e in EventType]
RELATION_TYPES = [r.value for r in RelationType]
MSG_DIM = len(EVENT_TYPES) + len(RELATION_TYPES) + 1


@dataclass
class Snapshot:
    """The tables of a `kgrec graph snapshot` directory."""

    path: Path
    relations: pl.DataFrame
    items: pl.DataFrame
    concepts: pl.DataFrame
    as_of: str


def read_snapshot(path: Path) -> Snapshot:
    """Read a snapshot directory; InputDataError names the directory and the missing file."""
    require_snapshot(path)
    with reading(path, "a graph snapshot", "write it again with `kgrec graph snapshot`"):
        manifest = json.loads((path / "manifest.json").read_text())
        relations, items, concepts = (pl.read_parquet(path / name) for name in SNAPSHOT_FILES[:3])
    return Snapshot(path, relations, items, concepts, str(manifest.get("as_of")))


def read_events(events_dir: Path, as_of: datetime | None = None) -> pl.DataFrame:
    """(user_id, item_id, event_type, t [epoch s]) sorted by time, from an ingest output.

    `events_dir` is an ingest output (with `events/`) or a folder of events Parquet files.
    """
    folder = events_dir / "events" if (events_dir / "events").is_dir() else events_dir
    if not folder.is_dir() or not any(folder.glob("*.parquet")):
        raise InputDataError(str(events_dir), "no events Parquet files here (an ingest output has events/)")
    scan = pl.scan_parquet(str(folder / "*.parquet")).select("user_id", "item_id", "event_type", "ts")
    if as_of is not None:
        scan = scan.filter(pl.col("ts") <= as_of)
    with reading(events_dir, "the events of an ingest output", "run `kgrec ingest` again"):
        events = scan.with_columns(pl.col("ts").dt.epoch("s").alias("t")).drop("ts").sort(
            "t", maintain_order=True).collect()
    if events.is_empty():
        if as_of is not None and pl.scan_parquet(str(folder / "*.parquet")).head(1).collect().height:
            raise NoEventsYet(str(events_dir), f"no events at or before {as_of}")
        raise InputDataError(str(events_dir), "no events")
    return events


def build_ids(events: pl.DataFrame, snapshot: Snapshot) -> IdMap:
    """Users from events; items from events and the snapshot; concepts from the snapshot."""
    items = pl.concat([events["item_id"], snapshot.items["id"]]).unique()
    return IdMap(events["user_id"].unique().to_list(), items.to_list(), snapshot.concepts["id"].to_list())


def _event_edges(events: pl.DataFrame, ids: IdMap) -> pl.DataFrame:
    """Encoded events (UnknownIdError for an id the map lacks)."""
    return events.select(
        ids.encode("user", events["user_id"]).alias("src"),
        ids.encode("item", events["item_id"]).alias("dst"), "t",
        pl.col("event_type").cast(pl.String).replace_strict(
            EVENT_TYPES, list(range(len(EVENT_TYPES))), default=0).alias("code"),
        pl.lit(0.0).alias("confidence"), pl.lit(True).alias("scored"))


def _knowledge_edges(snapshot: Snapshot, ids: IdMap, t_min: int) -> pl.DataFrame:
    """Relations whose both ends the map holds, as edges at first_seen (else the stream start)."""
    rel = snapshot.relations
    item_rel = rel["type"].is_in([r.value for r in ITEM_RELATIONS])
    tails = pl.when(item_rel).then(ids.encode("item", rel["tail"], False)).otherwise(
        ids.encode("concept", rel["tail"], False))
    return rel.select(
        ids.encode("item", rel["head"], False).alias("src"), tails.alias("dst"),
        pl.col("first_seen").dt.epoch("s").fill_null(t_min).alias("t"),
        (pl.col("type").replace_strict(RELATION_TYPES, list(range(len(RELATION_TYPES))))
         + len(EVENT_TYPES)).alias("code"),
        pl.col("confidence").fill_null(1.0), pl.lit(False).alias("scored"),
    ).drop_nulls(["src", "dst"])


def build_stream(events: pl.DataFrame, snapshot: Snapshot | None, ids: IdMap,
                 with_knowledge: bool) -> TemporalData:
    """The edge stream (`src, dst, t, msg, scored`).

    Raises:
        UnknownIdError: an event names a user or item the map lacks.
    """
    edges = _event_edges(events, ids)
    if with_knowledge and snapshot is not None and not edges.is_empty():
        knowledge = _knowledge_edges(snapshot, ids, int(edges["t"].min()))  # type: ignore[arg-type]
        edges = pl.concat([edges, knowledge], how="vertical_relaxed").sort(
            "t", "scored", descending=[False, True], maintain_order=True)
    codes = torch.from_numpy(edges["code"].to_numpy().astype("int64"))
    msg = torch.zeros(edges.height, MSG_DIM)
    msg[torch.arange(edges.height), codes] = 1.0
    msg[:, -1] = torch.from_numpy(edges["confidence"].to_numpy().astype("float32"))
    data = TemporalData(
        src=torch.from_numpy(edges["src"].to_numpy().astype("int64")),
        dst=torch.from_numpy(edges["dst"].to_numpy().astype("int64")),
        t=torch.from_numpy(edges["t"].to_numpy().astype("int64")), msg=msg,
        scored=torch.from_numpy(edges["scored"].to_numpy()))
    return data


def split_points(data: TemporalData, val_ratio: float, test_ratio: float) -> tuple[int, int]:
    """Stream positions where validation and test begin: chronological, by scored events."""
    scored_pos = torch.nonzero(data.scored).flatten()
    n = scored_pos.numel()
    val_start = int(n * (1.0 - val_ratio - test_ratio))
    test_start = int(n * (1.0 - test_ratio))
    if val_start == 0 or test_start <= val_start or test_start >= n:
        raise InputDataError("events", f"{n} events are too few for a train/val/test split")
    return int(scored_pos[val_start]), int(scored_pos[test_start])
