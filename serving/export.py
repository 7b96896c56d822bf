"""The embedding export rankers and the cache read: `<dir>/<version>/` with a manifest.

Layout (format `kgrec.embeddings/1`, written by `kgrec embed export`): `manifest.json`,
`users.parquet` / `items.parquet` (`id` string + `embedding` fixed_size_list<float32>[dim]),
`users.npy` / `items.npy` (float32 `[rows, dim]`, same row order), optionally
`item_text.npy` (float32 `[items, 384]`, same order as items), and `_SUCCESS.json`, written
last. A version without the marker, or with another format string, is refused: a half-written
export must never reach a ranker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kg.errors import InputDataError, StageOutputError

FORMAT: Final = "kgrec.embeddings/1"
MARKER = "_SUCCESS.json"


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
    files: ExportFiles


@dataclass(frozen=True)
class EmbeddingTable:
    """Ids and their vectors, row-aligned: `vectors[i]` is the embedding of `ids[i]`."""

    ids: list[str]
    vectors: np.ndarray  # float32 [rows, dim]


@dataclass(frozen=True)
class Export:
    """One complete exported version, loaded."""

    path: Path
    manifest: ExportManifest
    users: EmbeddingTable
    items: EmbeddingTable
    item_text: np.ndarray | None  # float32 [items, 384], rows as `items`


def read_manifest(version_dir: Path) -> ExportManifest:
    """The manifest of a complete export.

    Raises:
        StageOutputError: the directory or its `_SUCCESS.json` is missing (incomplete export).
        InputDataError: the manifest is unreadable, of an unknown format, or invalid.
    """
    if not version_dir.is_dir():
        raise StageOutputError(str(version_dir), "no embedding export here")
    if not (version_dir / MARKER).exists():
        raise StageOutputError(str(version_dir), f"embedding export is incomplete (no {MARKER}); "
                                                  "run `kgrec embed export` again")
    path = version_dir / "manifest.json"
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise InputDataError(str(path), f"unreadable manifest: {e}") from e
    if isinstance(raw, dict) and raw.get("format") != FORMAT:
        raise InputDataError(str(path), f"unknown export format {raw.get('format')!r}; this kgrec "
                                        f"reads {FORMAT!r}")
    try:
        return ExportManifest.model_validate(raw)
    except ValidationError as e:
        raise InputDataError(str(path), f"invalid manifest: {e}") from e


def _table(version_dir: Path, parquet: str, npy: str, dim: int, rows: int) -> EmbeddingTable:
    ids = pq.read_table(version_dir / parquet, columns=["id"]).column("id").to_pylist()
    vectors = np.load(version_dir / npy, mmap_mode="r")
    if vectors.dtype != np.float32 or vectors.shape != (rows, dim) or len(ids) != rows:
        raise InputDataError(str(version_dir / npy),
                             f"expected float32 [{rows}, {dim}] matching {parquet}; got {vectors.dtype} "
                             f"{list(vectors.shape)} and {len(ids)} ids")
    return EmbeddingTable(ids=[str(i) for i in ids], vectors=np.asarray(vectors))


def read_export(version_dir: Path) -> Export:
    """Load a complete export: manifest, ids (from Parquet) and vectors (from .npy).

    Raises:
        StageOutputError: incomplete export.
        InputDataError: unknown format, or files that disagree with the manifest.
    """
    manifest = read_manifest(version_dir)
    files = manifest.files
    users = _table(version_dir, files.users, files.users_npy, manifest.dim, manifest.rows["users"])
    items = _table(version_dir, files.items, files.items_npy, manifest.dim, manifest.rows["items"])
    text = None
    if files.item_text:
        text = np.load(version_dir / files.item_text)
        if text.dtype != np.float32 or text.ndim != 2 or text.shape[0] != len(items.ids):
            raise InputDataError(str(version_dir / files.item_text),
                                 f"expected float32 [{len(items.ids)}, d]; "
                                 f"got {text.dtype} {list(text.shape)}")
    return Export(path=version_dir, manifest=manifest, users=users, items=items, item_text=text)


def _write_table(path: Path, ids: list[str], vectors: np.ndarray) -> None:
    flat = pa.array(vectors.reshape(-1), pa.float32())
    column = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1])
    pq.write_table(pa.table({"id": pa.array(ids, pa.string()), "embedding": column}), path)


def write_export(root: Path, version: str, users: EmbeddingTable, items: EmbeddingTable, *,
                 model: ModelInfo, as_of: datetime, item_text: np.ndarray | None = None,
                 metrics: dict[str, dict[str, float]] | None = None) -> Path:
    """Write a version in the export format (for tests, benchmarks and stand-in embeddings).

    The GNN stage owns the real exporter; this writes the same layout so the serving side
    can be built and tested without it. Returns `<root>/<version>`.
    """
    out = root / version
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).unlink(missing_ok=True)
    dim = int(items.vectors.shape[1])
    for name, table in (("users", users), ("items", items)):
        vectors = np.ascontiguousarray(table.vectors, dtype=np.float32)
        _write_table(out / f"{name}.parquet", table.ids, vectors)
        np.save(out / f"{name}.npy", vectors)
    if item_text is not None:
        np.save(out / "item_text.npy", np.ascontiguousarray(item_text, dtype=np.float32))
    text_file = "item_text.npy" if item_text is not None else None
    manifest = ExportManifest(
        format=FORMAT, version=version, created_at=datetime.now(as_of.tzinfo), as_of=as_of, dim=dim,
        model=model, snapshot=None, rows={"users": len(users.ids), "items": len(items.ids)},
        metrics=metrics or {},
        files=ExportFiles(users="users.parquet", items="items.parquet", users_npy="users.npy",
                          items_npy="items.npy", item_text=text_file),
    )
    (out / "manifest.json").write_text(manifest.model_dump_json(indent=2))
    (out / MARKER).write_text(json.dumps({"version": version}))
    return out
