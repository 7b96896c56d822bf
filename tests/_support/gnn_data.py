"""A small learnable behaviour stream and graph snapshot, written as real files for gnn tests.

Users belong to taste groups and mostly interact with their group's items, and the snapshot
relates items within a group: a model that learns anything beats random ranking.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kg.arrow_schema import TIMESTAMP
from kg.snapshot import CONCEPT_SCHEMA, ITEM_SCHEMA, RELATION_SCHEMA

START = datetime(2026, 1, 1, tzinfo=UTC)


def write_events(out: Path, users: int = 60, items: int = 40, events: int = 3000, groups: int = 4,
                 seed: int = 0) -> Path:
    """`out/events/part-0.parquet` (+ the stage's markers): the canonical events table."""
    rng = np.random.default_rng(seed)
    user = rng.integers(0, users, events)
    in_group = rng.random(events) < 0.9
    per_group = items // groups
    item = np.where(in_group, (user % groups) * per_group + rng.integers(0, per_group, events),
                    rng.integers(0, items, events))
    ts = [START + timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 60 * 24 * 30, events))]
    table = pa.table({
        "user_id": pa.array([f"u{u:03d}" for u in user]), "item_id": pa.array([f"i{i:03d}" for i in item]),
        "event_type": pa.array(["purchase"] * events), "ts": pa.array(ts, TIMESTAMP),
        "session_id": pa.array([None] * events, pa.string()), "query": pa.array([None] * events, pa.string()),
    })
    (out / "events").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out / "events" / "part-0.parquet")
    (out / "_STARTED.json").write_text(json.dumps({"stage": "ingest"}))
    (out / "_SUCCESS.json").write_text("{}")
    return out


def write_snapshot(out: Path, items: int = 40, groups: int = 4) -> Path:
    """relations/items/concepts Parquet + manifest, as `kgrec graph snapshot` writes them."""
    out.mkdir(parents=True, exist_ok=True)
    per_group = items // groups
    names = ["mug", "tent", "lamp", "scarf", "kettle", "torch"]
    pq.write_table(pa.Table.from_pylist([
        {"id": f"i{i:03d}", "title": f"{names[i // per_group % len(names)]} model {i}",
         "category": f"group {i // per_group}", "brand": None} for i in range(items)], schema=ITEM_SCHEMA),
        out / "items.parquet")
    pq.write_table(pa.Table.from_pylist([
        {"id": f"function:{n}", "text": f"for {n} things", "kind": "function"} for n in names[:groups]],
        schema=CONCEPT_SCHEMA), out / "concepts.parquet")
    relations = []
    for i in range(items):
        g = i // per_group
        partner = g * per_group + (i + 1) % per_group
        relations.append({"id": f"r{i}", "type": "CO_PURCHASED", "head": f"i{i:03d}", "tail": f"i{partner:03d}",
                          "status": "proposed", "confidence": 0.8, "support": 3, "lift": 2.0,
                          "first_seen": START + timedelta(days=1), "last_seen": START + timedelta(days=20),
                          "model": "cooccurrence"})
        relations.append({"id": f"c{i}", "type": "USED_FOR", "head": f"i{i:03d}",
                          "tail": f"function:{names[g % len(names)]}", "status": "accepted", "confidence": 0.9,
                          "support": 1, "lift": None, "first_seen": None, "last_seen": None, "model": "llm"})
    pq.write_table(pa.Table.from_pylist(relations, schema=RELATION_SCHEMA), out / "relations.parquet")
    (out / "manifest.json").write_text(json.dumps({"as_of": (START + timedelta(days=31)).isoformat()}))
    return out
