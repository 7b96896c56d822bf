"""Embeddings at a point in time, written in the `kgrec.embeddings/1` format (docs/embeddings.md).

The trained model replays every event (and knowledge edge) up to `as_of` from a fresh memory,
then embeds every user and item from its memory and latest neighbours, including users and
items that appeared after training (TGN is inductive: nothing in its weights is per node).
Files are written into the version directory; the caller (`pipelines.steps.gnn.export_step`)
refuses a published version and writes the completion marker last.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from gnn.config import GnnSection
from gnn.data import TrainedNodes, prepare
from gnn.ids import IdMap, NodeKind
from gnn.train import TrainResult, load_result, make_harness
from kg.embeddings import EmbeddingTable, ExportManifest, ModelInfo, write_version

log = logging.getLogger("kgrec")


@dataclass
class Computed:
    """An export's id map, {user, item} -> float32 [rows, dim], item text features, unseen counts."""

    ids: IdMap
    vectors: dict[NodeKind, np.ndarray]
    item_text: np.ndarray | None
    unseen: dict[Literal["users", "items"], int]  # rows whose id the model did not train on


def default_version(now: datetime | None = None) -> str:
    """`vYYYYMMDDTHHMMSSZ` of now (UTC): sortable, one per second."""
    return "v" + (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def compute(model_dir: Path, result: TrainResult, as_of: datetime, device: torch.device,
            events_dir: Path, snapshot_dir: Path) -> Computed:
    """Embeddings of every user and item with events (or, for items, graph presence) by `as_of`.

    Nodes the model never trained on are embedded too: their memory and neighbourhood come
    from the replay, their text feature from the snapshot, through the trained weights.
    """
    config = GnnSection(**result.config)
    trained_ids = IdMap.load(model_dir / "ids.parquet")
    features_path = model_dir / "features.npy"
    trained = TrainedNodes(trained_ids, np.load(features_path) if features_path.exists() else None)
    prepared = prepare(config, events_dir, snapshot_dir, result.baseline, trained=trained, as_of=as_of)
    harness = make_harness(prepared, config, device)
    harness.model.load_weights(torch.load(model_dir / "model.pt", map_location=device))
    harness.replay(prepared.stream.num_events)
    ids = prepared.ids
    vectors: dict[NodeKind, np.ndarray] = {}
    for kind in ("user", "item"):
        start = ids.offset[kind]
        nodes = torch.arange(start, start + ids.count(kind))
        vectors[kind] = harness.embeddings(nodes).numpy().astype(np.float32)
    features = prepared.features
    new = ids.new_ids(trained_ids)
    if new["user"] or new["item"]:
        log.info("export: %d user(s) and %d item(s) the model did not train on, embedded from their "
                 "events and text", new["user"], new["item"])
    return Computed(ids, vectors, None if features is None else features[: ids.count("item")],
                    {"users": new["user"], "items": new["item"]})


def write_embeddings(model_dir: Path, as_of: datetime, version_dir: Path, device: torch.device,
                     events_dir: Path | None = None, snapshot_dir: Path | None = None) -> ExportManifest:
    """Write users/items Parquet + .npy, item_text.npy (when the model has text), manifest.json.

    `events_dir` and `snapshot_dir` default to the ones the model was trained on; newer ones
    embed what happened since training (new users and items included).
    """
    result = load_result(model_dir)
    snapshot = snapshot_dir or Path(result.snapshot_dir)
    out = compute(model_dir, result, as_of, device, events_dir or Path(result.events_dir), snapshot)
    return write_version(
        version_dir, EmbeddingTable(out.ids.names["user"], out.vectors["user"]),
        EmbeddingTable(out.ids.names["item"], out.vectors["item"]),
        model=ModelInfo(name=result.model_name, hash=result.model_hash, baseline=result.baseline),
        as_of=as_of, snapshot=str(snapshot), item_text=out.item_text, unseen_in_training=out.unseen,
        metrics={split: {"ap": m.ap, "auc": m.auc, "mrr": m.mrr} for split, m in result.metrics.items()})
