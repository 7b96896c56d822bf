"""The embedding export rankers and the cache read: `<dir>/<version>/` with a manifest.

The format (`kgrec.embeddings/1`, written by `kgrec embed export`) is defined once in
`kg.embeddings`; `_SUCCESS.json` is written last. A version without the marker, or with another
format string, is refused: a half-written export must never reach a ranker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from pydantic import ValidationError

from kg.embeddings import FORMAT, EmbeddingTable, ExportManifest, ModelInfo, write_version
from kg.errors import InputDataError, StageOutputError

__all__ = ["EmbeddingTable", "Export", "ExportManifest", "ModelInfo", "read_export", "read_manifest",
           "write_export"]

MARKER = "_SUCCESS.json"


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
        raise StageOutputError(str(version_dir), "no embedding export here; `kgrec embed export --out ROOT "
                               "--version V` writes one as ROOT/V")
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


def write_export(root: Path, version: str, users: EmbeddingTable, items: EmbeddingTable, *,
                 model: ModelInfo, as_of: datetime, item_text: np.ndarray | None = None,
                 metrics: dict[str, dict[str, float]] | None = None) -> Path:
    """A complete version (marker included) for tests, benchmarks and stand-in embeddings.

    The GNN stage writes real exports through the same `kg.embeddings.write_version`.
    Returns `<root>/<version>`.
    """
    out = root / version
    (out / MARKER).unlink(missing_ok=True)
    write_version(out, users, items, model=model, as_of=as_of, metrics=metrics, item_text=item_text)
    (out / MARKER).write_text(json.dumps({"version": version}))
    return out
