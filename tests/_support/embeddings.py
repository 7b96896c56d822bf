"""Small embedding exports in the GNN stage's format, made up for serving tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from serving.export import EmbeddingTable, ModelInfo, write_export


def make_export(root: Path, version: str, *, users: int = 50, items: int = 80, dim: int = 8,
                offset: float = 0.0, text_dim: int | None = None) -> Path:
    """Write a version whose vectors are predictable: row r of items is r + offset in every slot.

    Users hold -(r + offset), so a mixed-version batch shows up as mixed offsets.
    """
    def table(prefix: str, n: int, sign: float) -> EmbeddingTable:
        values = sign * (np.arange(n, dtype=np.float32)[:, None] + offset) * np.ones((1, dim), np.float32)
        return EmbeddingTable(ids=[f"{prefix}{r}" for r in range(n)], vectors=values)

    text = np.random.default_rng(0).normal(size=(items, text_dim)).astype(np.float32) if text_dim else None
    return write_export(root, version, table("u", users, -1.0), table("i", items, 1.0),
                        model=ModelInfo(name="test", hash="0" * 8, baseline=False),
                        as_of=datetime(2026, 1, 1, tzinfo=UTC), item_text=text)
