"""Embeddings at a point in time, written in the `kgrec.embeddings/1` format (docs/embeddings.md).

The trained model replays every event (and knowledge edge) up to `as_of` from a fresh memory,
then embeds every user and item from its memory and latest neighbours. Files are written into
the version directory; the caller (`pipelines.gnn_steps.export_step`) refuses a published
version and writes the completion marker last.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from gnn.config import GnnSection
from gnn.data import prepare
from gnn.ids import IdMap, NodeKind
from gnn.train import TrainResult, load_result, make_harness
from kg.embeddings import EmbeddingTable, ExportManifest, ModelInfo, write_version


def default_version(now: datetime | None = None) -> str:
    """`vYYYYMMDDTHHMMSSZ` of now (UTC): sortable, one per second."""
    return "v" + (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def compute(model_dir: Path, result: TrainResult, as_of: datetime,
            device: torch.device) -> tuple[IdMap, dict[NodeKind, np.ndarray], np.ndarray | None]:
    """(id map, {user, item} -> float32 [rows, dim] at `as_of`, item text features or None)."""
    config = GnnSection(**result.config)
    ids = IdMap.load(model_dir / "ids.parquet")
    features_path = model_dir / "features.npy"
    features = np.load(features_path) if features_path.exists() else None
    prepared = prepare(config, Path(result.events_dir), Path(result.snapshot_dir), result.baseline,
                       ids=ids, as_of=as_of, features=features)
    harness = make_harness(prepared, config, device)
    harness.model.load_state_dict(torch.load(model_dir / "model.pt", map_location=device))
    harness.replay(prepared.stream.num_events)
    vectors: dict[NodeKind, np.ndarray] = {}
    for kind in ("user", "item"):
        start = ids.offset[kind]
        nodes = torch.arange(start, start + ids.count(kind))
        vectors[kind] = harness.embeddings(nodes).numpy().astype(np.float32)
    item_text = None if features is None else features[: ids.count("item")]
    return ids, vectors, item_text


def write_embeddings(model_dir: Path, as_of: datetime, version_dir: Path,
                     device: torch.device) -> ExportManifest:
    """Write users/items Parquet + .npy, item_text.npy (when the model has text), manifest.json."""
    result = load_result(model_dir)
    ids, vectors, item_text = compute(model_dir, result, as_of, device)
    return write_version(
        version_dir, EmbeddingTable(ids.names["user"], vectors["user"]),
        EmbeddingTable(ids.names["item"], vectors["item"]),
        model=ModelInfo(name=result.model_name, hash=result.model_hash, baseline=result.baseline),
        as_of=as_of, snapshot=result.snapshot_dir, item_text=item_text,
        metrics={split: {"ap": m.ap, "auc": m.auc, "mrr": m.mrr} for split, m in result.metrics.items()})
