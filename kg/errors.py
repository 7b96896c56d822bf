"""One exception hierarchy for the whole project.

Every error names the input it is about (a file, a config key, an id), so that the person
reading the message knows what to fix without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


class KgrecError(Exception):
    """Root of every error kgrec raises on purpose."""


class ConfigError(KgrecError):
    """A configuration value is missing or invalid; the message names the key and its source."""

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class InputDataError(KgrecError):
    """An input file or directory cannot be used at all (not a row-level problem)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class NoValidRows(InputDataError):
    """Every row of a table's input was quarantined (or there was none): the stage cannot go on.

    The message says how many rows were read, the most frequent reasons and where the
    quarantine is, so the person reading it can fix the input or the format without a
    traceback; the same facts are fields for code.
    """

    def __init__(self, path: str, table: str, rows_read: int, reasons: dict[str, int],
                 quarantine: str) -> None:
        top = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        said = "; ".join(f"{reason}: {n:,}" for reason, n in top)
        reason = (f"no valid {table} rows: {rows_read:,} read, every one quarantined (top reasons: {said}); "
                  f"the rows and their reasons are in {quarantine}") if rows_read else (
                  f"no {table} rows at all: the input holds no rows")
        super().__init__(path, reason)
        self.table = table
        self.rows_read = rows_read
        self.reasons = reasons
        self.quarantine = quarantine


@contextmanager
def reading(path: Path | str, what: str, fix: str) -> Iterator[None]:
    """Report a file that cannot be read as the input it is, not as the library that choked on it.

    A corrupt Parquet file, a CSV with a broken quote, a JSON file cut short or a directory where
    a file belongs make polars, pyarrow, numpy or pydantic raise their own errors, which name
    neither the input the user gave nor what to do. Inside this block any of them becomes an
    InputDataError naming `path`, `what` it should have been, the library's reason on one line,
    and `fix`. Keep the block to the read itself, so a bug elsewhere is not dressed up as bad
    input; kgrec's own errors pass through unchanged.

    Raises:
        InputDataError: reading failed.
    """
    try:
        yield
    except KgrecError:
        raise
    except Exception as e:
        reason = _gist(e)
        raise InputDataError(str(path), f"cannot read it as {what} ({reason}); {fix}") from e


def _gist(error: Exception, limit: int = 200) -> str:
    """A library's reason on one line: its first paragraph (advice on its own API follows), cut short."""
    first = str(error).strip().split("\n\n", 1)[0]
    text = " ".join(first.split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NoEventsYet(InputDataError):
    """An input has events, but none at or before the time asked for: nothing to embed yet."""


class StageOutputError(KgrecError):
    """A stage's output directory is missing or was left incomplete by an interrupted run."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreError(KgrecError):
    """Something about a graph store (named in the message) stops the work."""

    def __init__(self, store: str, reason: str) -> None:
        super().__init__(f"{store}: {reason}")
        self.store = store
        self.reason = reason


class StoreUnavailable(StoreError):
    """The graph store cannot be reached (after retries, where retrying makes sense)."""


class UnknownRelationError(KgrecError):
    """Curation named relation ids the graph does not hold."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"no such relation(s): {', '.join(ids)}; ids look like TYPE:head:tail, and "
                         "`kgrec curate list` shows them")
        self.ids = ids


class StaleRelationError(KgrecError):
    """A decision was sent for relations that another decision changed since the sender read them."""

    def __init__(self, versions: Mapping[str, tuple[int | None, int]]) -> None:
        shown = ", ".join(f"{i} (seen at version {seen}, now {now})" for i, (seen, now) in versions.items())
        super().__init__(f"changed since this page was loaded: {shown}; reload to see the newer decision, "
                         "then decide again")
        self.ids = list(versions)


class ConceptCurationError(KgrecError):
    """A curator's merge or split of concepts that cannot be done as asked (nothing is changed)."""


class LlmUnavailable(KgrecError):
    """The LLM endpoint cannot be used at all (refused credentials, a server that will not start)."""

    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__(f"{endpoint}: {reason}")
        self.endpoint = endpoint
        self.reason = reason


class ApiRequestError(KgrecError):
    """The embedding API refused or failed a request; `status` None means no reply came."""

    def __init__(self, url: str, status: int | None, detail: str) -> None:
        super().__init__(f"{url}: {'no reply' if status is None else f'HTTP {status}'}: {detail}")
        self.url = url
        self.status = status
        self.detail = detail


class VersionConflictError(KgrecError):
    """An embedding version already published (or half-published) holds different content."""

    def __init__(self, version: str, reason: str) -> None:
        super().__init__(f"embedding version {version!r}: {reason}")
        self.version = version
        self.reason = reason


class GraphBusy(StoreError):
    """A load lost its exclusive hold on a graph (another load may be writing it now); not transient."""


class GraphHoldsOtherDataset(StoreError):
    """A run or load would write one dataset into a graph that holds another's (`GraphStore.claim`)."""
