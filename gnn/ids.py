"""Dense node ids: users, then items, then concepts, in one index space the model uses.

The mapping is saved beside the model (`ids.parquet`) so exported rows, checkpoints and later
exports agree on which vector belongs to which canonical id.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from kg.errors import InputDataError, KgrecError

NodeKind = Literal["user", "item", "concept"]
KINDS: tuple[NodeKind, ...] = ("user", "item", "concept")


class UnknownIdError(KgrecError):
    """Ids that the model's mapping does not hold (the first few are named)."""

    def __init__(self, kind: str, ids: Sequence[str]) -> None:
        shown = ", ".join(repr(i) for i in ids[:5])
        more = f" and {len(ids) - 5} more" if len(ids) > 5 else ""
        super().__init__(f"unknown {kind} id(s): {shown}{more}")
        self.kind = kind
        self.ids = list(ids)


class IdMap:
    """Canonical string ids <-> dense node indices.

    Users occupy `[0, users)`, items `[users, users + items)`, concepts after them. Within a
    kind, ids are sorted, so the same inputs always give the same mapping.
    """

    def __init__(self, users: Sequence[str], items: Sequence[str], concepts: Sequence[str] = ()) -> None:
        self.names: dict[NodeKind, list[str]] = {
            "user": sorted(set(users)), "item": sorted(set(items)), "concept": sorted(set(concepts))}
        self.offset: dict[NodeKind, int] = {
            "user": 0, "item": len(self.names["user"]),
            "concept": len(self.names["user"]) + len(self.names["item"])}

    @property
    def num_nodes(self) -> int:
        """Users + items + concepts."""
        return sum(len(v) for v in self.names.values())

    def count(self, kind: NodeKind) -> int:
        """Number of ids of one kind."""
        return len(self.names[kind])

    def union(self, other: IdMap) -> IdMap:
        """Every id of either map (a new mapping: node numbers of both may move)."""
        return IdMap(*(self.names[k] + other.names[k] for k in KINDS))

    def new_ids(self, trained: IdMap) -> dict[NodeKind, int]:
        """How many ids of each kind this map holds that `trained` does not."""
        return {k: len(set(self.names[k]) - set(trained.names[k])) for k in KINDS}

    def frame(self, kind: NodeKind) -> pl.DataFrame:
        """(id, node) for one kind, in node order."""
        names = self.names[kind]
        start = self.offset[kind]
        return pl.DataFrame({"id": pl.Series(names, dtype=pl.String),
                             "node": pl.Series(np.arange(start, start + len(names)), dtype=pl.Int64)})

    def encode(self, kind: NodeKind, ids: pl.Series, strict: bool = True) -> pl.Series:
        """Node index of every id (a hash join: linear in len(ids)).

        Raises:
            UnknownIdError: `strict` and some id is not in the mapping; otherwise unknown ids
                come back as null.
        """
        joined = pl.DataFrame({"id": ids.cast(pl.String)}).join(
            self.frame(kind), on="id", how="left", maintain_order="left")
        if strict and joined["node"].null_count():
            unknown = joined.filter(pl.col("node").is_null())["id"].unique(maintain_order=True)
            raise UnknownIdError(kind, unknown.to_list())
        return joined["node"]

    def decode(self, kind: NodeKind, nodes: np.ndarray) -> list[str]:
        """Canonical ids of node indices of one kind (the inverse of `encode`)."""
        names = self.names[kind]
        local = np.asarray(nodes, dtype=np.int64) - self.offset[kind]
        if local.size and (local.min() < 0 or local.max() >= len(names)):
            outside = np.asarray(nodes)[(local < 0) | (local >= len(names))]
            raise UnknownIdError(kind, [str(n) for n in outside])
        return [names[i] for i in local]

    def save(self, path: Path) -> None:
        """Write `(kind, id, node)` rows to one Parquet file."""
        pl.concat([self.frame(k).with_columns(pl.lit(k).alias("kind")) for k in KINDS]).select(
            "kind", "id", "node").write_parquet(path)

    @classmethod
    def load(cls, path: Path) -> IdMap:
        """Read a mapping written by `save`; node numbers are checked, not trusted."""
        if not path.exists():
            raise InputDataError(str(path), "no id mapping here (is this a `kgrec train` output?)")
        table = pl.read_parquet(path)
        loaded = cls(*(table.filter(pl.col("kind") == k)["id"].to_list() for k in KINDS))
        expected = pl.concat([loaded.frame(k) for k in KINDS])
        if not table.select("id", "node").equals(expected):
            raise InputDataError(str(path), "id mapping is not in canonical order; it was edited")
        return loaded
