"""Embeddings in the format a CTR library loads as pretrained features: FuxiCTR's.

FuxiCTR (the library behind the BARS benchmark) reads a pretrained table per feature from
an `.npz` (also `.h5` or `.parquet`) holding two arrays, `key` (the feature's raw values, here
ids as strings) and `value` (float32 `[rows, dim]`), referenced from a feature's spec:

    - {name: item_id, active: true, dtype: str, type: categorical,
       pretrained_emb: fuxictr/item_id.npz, pretrain_dim: 64, pretrain_usage: sum, freeze_emb: true}

`write_fuxictr` writes `user_id.npz`, `item_id.npz` and (when the export has item text
features) `item_text.npz` for the `item_id` feature; `aligned` turns one of them into the row
layout of a ranker's vocabulary, which is how `kgrec eval ctr` reads them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kg.errors import InputDataError
from serving.export import Export


def _write(path: Path, keys: list[str], values: np.ndarray) -> Path:
    np.savez(path, key=np.array(keys, dtype=str), value=np.ascontiguousarray(values, dtype=np.float32))
    return path


def write_fuxictr(export: Export, out: Path) -> dict[str, Path]:
    """Write the export's tables as FuxiCTR pretrained-embedding files under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"user_id": _write(out / "user_id.npz", export.users.ids, export.users.vectors),
             "item_id": _write(out / "item_id.npz", export.items.ids, export.items.vectors)}
    if export.item_text is not None:
        files["item_text"] = _write(out / "item_text.npz", export.items.ids, export.item_text)
    return files


def aligned(path: Path, vocab: list[str]) -> np.ndarray:
    """float32 `[len(vocab) + 1, dim]`: row i+1 is `vocab[i]`'s vector; row 0 and unknown ids are 0.

    Raises:
        InputDataError: the file lacks `key` or `value`, or their lengths differ.
    """
    with np.load(path) as npz:
        if "key" not in npz or "value" not in npz:
            raise InputDataError(str(path), "not a FuxiCTR pretrained-embedding file (needs key, value)")
        keys, values = npz["key"].astype(str), npz["value"].astype(np.float32)
    if len(keys) != len(values):
        raise InputDataError(str(path), f"{len(keys)} keys but {len(values)} vectors")
    row = {k: n for n, k in enumerate(keys.tolist())}
    table = np.zeros((len(vocab) + 1, values.shape[1]), np.float32)
    for n, key in enumerate(vocab):
        hit = row.get(key)
        if hit is not None:
            table[n + 1] = values[hit]
    return table
