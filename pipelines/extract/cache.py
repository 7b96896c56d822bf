"""A content-addressed cache of LLM answers on any filesystem pyarrow reaches.

One small JSON object per answer at `<root>/<key[:2]>/<key>.json`, keyed by
`prompts.cache_key(model, prompt version, input)`. Why files: every Ray worker on every node can
read and write them with no coordinator, on local disk, NFS or an object store alike; an
answer is written the moment it arrives (temporary name, then a rename, so a reader never sees
half an entry), so a job killed with -9 loses at most the requests in flight. Two workers
writing the same key write the same content, so the race is harmless.
"""

from __future__ import annotations

import functools
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow.fs as pafs
from pydantic import BaseModel, ValidationError

from kg.schema import AnswerStatus
from pipelines.storage import filesystem_for

_LOOKUP_THREADS = 16


class CacheEntry(BaseModel):
    """One answered question, as stored."""

    key: str
    model: str
    prompt_version: str
    status: AnswerStatus
    answer: dict[str, Any] | None = None
    reason: str | None = None
    raw: str | None = None
    attempts: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0


class AnswerCache:
    """Read and write cache entries under `root` (a path or URI)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._fs, self._base = filesystem_for(root)
        self._fs.create_dir(self._base, recursive=True)

    def _path(self, key: str) -> str:
        return f"{self._base}/{key[:2]}/{key}.json"

    def get(self, key: str) -> CacheEntry | None:
        """The entry for `key`, or None; an unreadable entry counts as absent (asked again)."""
        try:
            with self._fs.open_input_stream(self._path(key)) as stream:
                return CacheEntry.model_validate_json(stream.read())
        except (FileNotFoundError, ValidationError):
            return None
        except OSError as e:  # pyarrow reports some missing files as a generic OSError
            if "not found" in str(e).lower() or "no such file" in str(e).lower():
                return None
            raise

    def get_many(self, keys: list[str]) -> list[CacheEntry | None]:
        """Entries for `keys`, in order; lookups run in parallel (object stores are slow per call)."""
        if len(keys) < 4 or isinstance(self._fs, pafs.LocalFileSystem):
            return [self.get(key) for key in keys]
        with ThreadPoolExecutor(_LOOKUP_THREADS) as pool:
            return list(pool.map(self.get, keys))

    def put(self, entry: CacheEntry) -> None:
        """Store `entry` atomically (write aside, then rename over the final name)."""
        final = self._path(entry.key)
        self._fs.create_dir(final.rsplit("/", 1)[0], recursive=True)
        temporary = f"{final}.{uuid.uuid4().hex}.tmp"
        with self._fs.open_output_stream(temporary) as stream:
            stream.write(entry.model_dump_json().encode())
        self._fs.move(temporary, final)

    def keys(self) -> set[str]:
        """Every stored key (a full listing: for tests, audits and benchmarks)."""
        selector = pafs.FileSelector(self._base, recursive=True, allow_not_found=True)
        return {info.base_name[:-5] for info in self._fs.get_file_info(selector)
                if info.type == pafs.FileType.File and info.base_name.endswith(".json")}


@functools.cache
def open_cache(root: str) -> AnswerCache:
    """One handle per worker process and root, for stateless Ray tasks and plain functions."""
    return AnswerCache(root)
