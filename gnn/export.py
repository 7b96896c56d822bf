"""Embeddings at a point in time, written in the `kgrec.embeddings/1` format (docs/embeddings.md).

The trained model replays every event (and knowledge edge) up to `as_of` from a fresh memory,
then embeds every user and item from its memory and latest neighbours. Files are written into
the version directory; the caller (`pipelines.gnn_steps.export_step`) refuses a published
version and writes the completion marker last.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from pydantic import BaseModel

from gnn.config import GnnSection
from gnn.data import prepare
from gnn.ids import IdMap, NodeKind
from gnn.train import TrainResult, load_result, make_harness

FORMAT = "kgrec.embeddings/1"


class ModelInfo(BaseModel):
    """Which model made the vectors."""

    name: str
    hash: str
    baseline: bool


class EmbeddingManifest(BaseModel):
    """`manifest.json` of an embedding version (the contract serving reads)."""

    format: str = FORMAT
    version: str
    created_at: datetime
    as_of: datetime
    dim: int
    model: ModelInfo
    snapshot: str | None
    rows: dict[str, int]
    metrics: dict[str, dict[str, float]]
    files: dict[str, str | None]


def default_version(now: datetime | None = None) -> str:
    """`vYYYYMMDDTHHMMSSZ` of now (UTC): sortable, one per second."""
    return "v" + (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def _vectors(ids: list[str], vectors: np.ndarray, path: Path) -> None:
    """(id string, embedding fixed_size_list<float32>[dim]) rows, in node order."""
    flat = pa.array(vectors.astype(np.float32).reshape(-1), pa.float32())
    pq.write_table(pa.table({"id": pa.array(ids, pa.string()),
                             "embedding": pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])}), path)


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
                     device: torch.device) -> EmbeddingManifest:
    """Write users/items Parquet + .npy, item_text.npy (when the model has text), manifest.json."""
    result = load_result(model_dir)
    ids, vectors, item_text = compute(model_dir, result, as_of, device)
    version_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str | None] = {"users": "users.parquet", "items": "items.parquet",
                                    "users_npy": "users.npy", "items_npy": "items.npy", "item_text": None}
    tables: tuple[tuple[NodeKind, str], ...] = (("user", "users"), ("item", "items"))
    for kind, table in tables:
        _vectors(ids.names[kind], vectors[kind], version_dir / f"{table}.parquet")
        np.save(version_dir / f"{table}.npy", vectors[kind])
    if item_text is not None:
        np.save(version_dir / "item_text.npy", item_text.astype(np.float32))
        files["item_text"] = "item_text.npy"
    manifest = EmbeddingManifest(
        version=version_dir.name, created_at=datetime.now(UTC), as_of=as_of.astimezone(UTC),
        dim=int(vectors["user"].shape[1]),
        model=ModelInfo(name=result.model_name, hash=result.model_hash, baseline=result.baseline),
        snapshot=result.snapshot_dir, rows={"users": ids.count("user"), "items": ids.count("item")},
        metrics={split: {"ap": m.ap, "auc": m.auc, "mrr": m.mrr} for split, m in result.metrics.items()},
        files=files)
    (version_dir / "manifest.json").write_text(json.dumps(manifest.model_dump(mode="json"), indent=2))
    return manifest
