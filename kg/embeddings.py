"""The embedding export format `kgrec.embeddings/1`: one definition for its writer and readers.

The GNN stage writes it (`kgrec embed export`), the cache, the HTTP API and the CTR evaluation
read it, and rankers load its files directly. Layout of a version directory: `manifest.json`,
`users.parquet` / `items.parquet` (`id` string + `embedding` fixed_size_list<float32>[dim]),
`users.npy` / `items.npy` (float32 `[rows, dim]`, same row order), optionally `item_text.npy`
(float32 `[items, d]`, rows as items) and `_SUCCESS.json`, which the caller writes last.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

FORMAT: Final = "kgrec.embeddings/1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelInfo(_Strict):
    """Which model made the embeddings."""

    name: str
    hash: str = Field(description="Content hash of the model's weights and config.")
    baseline: bool = Field(description="True for a baseline (e.g. PyG's plain TGN), not kgrec's model.")


class ExportFiles(_Strict):
    """File names inside the version directory."""

    users: str
    items: str
    users_npy: str
    items_npy: str
    item_text: str | None = None


class ExportManifest(_Strict):
    """`manifest.json` of one exported version."""

    format: Literal["kgrec.embeddings/1"]
    version: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    created_at: datetime
    as_of: datetime = Field(description="Embeddings reflect events up to this time.")
    dim: int = Field(ge=1)
    model: ModelInfo
    snapshot: str | None = None
    rows: dict[Literal["users", "items"], int]
    metrics: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Split (val, test) -> metric (ap, auc, mrr) -> value.")
    unseen_in_training: dict[Literal["users", "items"], int] = Field(
        default_factory=dict, description="Rows whose id the model never trained on: embedded "
        "from the events and text they have by `as_of`, through the trained weights.")
    files: ExportFiles


@dataclass(frozen=True)
class EmbeddingTable:
    """Ids and their vectors, row-aligned: `vectors[i]` is the embedding of `ids[i]`."""

    ids: list[str]
    vectors: np.ndarray  # float32 [rows, dim]


def _write_table(path: Path, ids: list[str], vectors: np.ndarray) -> None:
    flat = pa.array(vectors.reshape(-1), pa.float32())
    column = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
    pq.write_table(pa.table({"id": pa.array(ids, pa.string()), "embedding": column}), path)


def write_version(version_dir: Path, users: EmbeddingTable, items: EmbeddingTable, *, model: ModelInfo,
                  as_of: datetime, snapshot: str | None = None,
                  metrics: dict[str, dict[str, float]] | None = None,
                  item_text: np.ndarray | None = None,
                  unseen_in_training: dict[Literal["users", "items"], int] | None = None) -> ExportManifest:
    """Write every file of a version except the completion marker, which the caller adds last."""
    version_dir.mkdir(parents=True, exist_ok=True)
    for name, table in (("users", users), ("items", items)):
        vectors = np.ascontiguousarray(table.vectors, dtype=np.float32)
        _write_table(version_dir / f"{name}.parquet", table.ids, vectors)
        np.save(version_dir / f"{name}.npy", vectors)
    if item_text is not None:
        np.save(version_dir / "item_text.npy", np.ascontiguousarray(item_text, dtype=np.float32))
    text_file = "item_text.npy" if item_text is not None else None
    manifest = ExportManifest(
        format=FORMAT, version=version_dir.name, created_at=datetime.now(UTC), as_of=as_of.astimezone(UTC),
        dim=int(items.vectors.shape[1]), model=model, snapshot=snapshot,
        rows={"users": len(users.ids), "items": len(items.ids)}, metrics=metrics or {},
        unseen_in_training=unseen_in_training or {},
        files=ExportFiles(users="users.parquet", items="items.parquet", users_npy="users.npy",
                          items_npy="items.npy", item_text=text_file),
    )
    (version_dir / "manifest.json").write_text(manifest.model_dump_json(indent=2))
    return manifest
