"""Paths and URIs alike: a local path or any URI pyarrow knows (s3://, gs://, hdfs://)."""

from __future__ import annotations

import pyarrow.fs as pafs


def filesystem_for(path: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem holding `path` and the path within it."""
    if "://" in path:
        filesystem, inner = pafs.FileSystem.from_uri(path)
        return filesystem, str(inner)
    return pafs.LocalFileSystem(), path
