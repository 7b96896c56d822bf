"""Where a version lives in Redis: one place that spells every key.

    <prefix>:live                  the live version (one string: switching it is atomic)
    <prefix>:versions              sorted set of completely published versions, by publish time
    <prefix>:<version>:meta        hash: manifest, digest, rows loaded per table, complete flag
    <prefix>:<version>:fallback    hash: float32 fallback vectors (global means, category means)
    <prefix>:<version>:u:<id>      a user's float32 embedding, raw little-endian bytes
    <prefix>:<version>:i:<id>      an item's float32 embedding

Versions never contain ':' (the manifest model forbids it), so `<prefix>:<version>:*`
matches exactly one version's keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["users", "items"]
_TAG: dict[Kind, str] = {"users": "u", "items": "i"}


@dataclass(frozen=True)
class KeySpace:
    """Key names under one prefix."""

    prefix: str

    @property
    def live(self) -> str:
        """The live-version pointer."""
        return f"{self.prefix}:live"

    @property
    def versions(self) -> str:
        """Sorted set of completely published versions."""
        return f"{self.prefix}:versions"

    def meta(self, version: str) -> str:
        """Hash with the version's manifest and publish progress."""
        return f"{self.prefix}:{version}:meta"

    def fallback(self, version: str) -> str:
        """Hash with the version's cold-start vectors."""
        return f"{self.prefix}:{version}:fallback"

    def vector_prefix(self, version: str, kind: Kind) -> str:
        """Everything before the id in a vector key; readers concatenate ids to it."""
        return f"{self.prefix}:{version}:{_TAG[kind]}:"

    def version_pattern(self, version: str) -> str:
        """SCAN pattern matching every key of one version."""
        return f"{self.prefix}:{version}:*"


def as_text(value: Any) -> str:
    """A redis-py reply as text (clients run without decode_responses: vectors are binary)."""
    return value.decode() if isinstance(value, bytes) else str(value)
