"""What the readers hand the adapters: chunks of rows as read, and failures as data."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

ROW_COLUMN = "_row"
# JSON sources only: per row, the keys whose value was a list or an object (kept as JSON text),
# so that an adapter tells a list from a string that merely looks like one.
NESTED = "_nested"
RESERVED = (ROW_COLUMN, NESTED)


class LineRefused(Exception):
    """A line a reader cannot turn into a row; the message is the quarantine reason."""


@dataclass(frozen=True)
class ReadFailure:
    """Something in a file that could not be read as rows."""

    source: str
    row_number: int | None
    reason: str
    raw: str


@dataclass(frozen=True)
class Chunk:
    """Rows read from a file, all columns as read, plus `_row`: each row's 0-based number.

    Row numbers are exact: the line number for JSON lines, the line number less one (the
    header) for CSV, the row index for Parquet. JSON sources add `_nested` (see NESTED).
    """

    source: str
    table: pa.Table


def source_name(name: str) -> str:
    """A source column's name as chunks carry it: reserved names get a suffix, never a clash."""
    return f"{name} (source)" if name in RESERVED else name


def unique_names(names: list[str]) -> list[str]:
    """Source column names made unique (a repeated CSV header gets ' (2)', ...) and unreserved."""
    taken: set[str] = set()
    result = []
    for name in map(source_name, names):
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name} ({n})"
        taken.add(candidate)
        result.append(candidate)
    return result


def numbered(table: pa.Table, numbers: list[int], nested: list[list[str]] | None = None) -> pa.Table:
    """`table` with safe column names (see unique_names), `_row`, and `_nested` when given."""
    table = table.rename_columns(unique_names(table.column_names))
    table = table.append_column(ROW_COLUMN, pa.array(numbers, pa.int64()))
    return table if nested is None else table.append_column(NESTED, pa.array(nested, pa.list_(pa.string())))
