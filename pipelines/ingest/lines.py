"""Line-exact CSV reading, for formats whose records never span lines (Instacart, RetailRocket).

Why not `sources.read_chunks`: pyarrow's CSV parser works a block at a time, so one byte of
invalid UTF-8 fails the whole block, an unclosed quote swallows the lines after it into one
field, and `"24"838` silently reads as 24838. In these formats a record is exactly one physical
line, so the line is the unit of failure: a line that does not decode as UTF-8, holds a NUL
byte, breaks CSV quoting (Python's `csv` in strict mode) or has another field count than the
header becomes a `ReadFailure` with its exact row number, and every other line is read.

Fast path: a block of lines without any quote, NUL or non-UTF-8 byte is split on commas by
Arrow (with no quotes, a comma is exactly a field separator); other blocks go line by line.
Blank lines are not rows. Row numbers are 0-based data rows (row 0 is the line after the
header; blank lines count), the same numbering `sources` uses for CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ingest.chunks import ROW_COLUMN, Chunk, ReadFailure
from pipelines.storage import filesystem_for

Line = tuple[int, bytes]  # (0-based data row, the line's bytes without its line break)


def read_line_chunks(path: str, rows_per_batch: int) -> Iterator[Chunk | ReadFailure]:
    """Yield `path`'s rows (all columns text) in chunks of up to `rows_per_batch` lines.

    Never raises for a bad file: a file that cannot be opened or ends in a broken compressed
    stream (a truncated .gz) yields one ReadFailure with row_number None, after every row
    read before the fault (a line the fault cut off is not among them).
    """
    block: list[Line] = []
    names: list[str] = []
    last = -1
    try:
        filesystem, inner = filesystem_for(path)
        with filesystem.open_input_stream(inner, compression="detect") as stream:
            lines = _lines(stream)
            names = _header(path, lines)
            for line in lines:
                block.append(line)
                last = line[0]
                if len(block) >= rows_per_batch:
                    yield from _parse_block(path, names, block)
                    block = []
    except (OSError, pa.ArrowException, ValueError, EOFError) as e:
        yield from _parse_block(path, names, block) if names else ()
        where = f" after row {last}" if last >= 0 else ""
        yield ReadFailure(path, None, f"unreadable csv file{where}: {e}", "")
        return
    if block:
        yield from _parse_block(path, names, block)


def _lines(stream: pa.NativeFile) -> Iterator[Line]:
    """Non-blank lines numbered as data rows (the header's line is -1)."""
    for number, line in enumerate(io.BufferedReader(stream), start=-1):
        stripped = line.rstrip(b"\r\n")
        if stripped.strip():
            yield number, stripped


def _header(path: str, lines: Iterator[Line]) -> list[str]:
    """Column names from the first line.

    Raises:
        ValueError: no header, or one that is not valid UTF-8 CSV (the file is unreadable).
    """
    first = next(lines, None)
    if first is None:
        raise ValueError(f"{path} is empty")
    names = next(csv.reader([first[1].decode("utf-8-sig")], strict=True))
    return [name.strip() for name in names]


def _parse_block(path: str, names: list[str], block: list[Line]) -> Iterator[Chunk | ReadFailure]:
    joined = b"\n".join(line for _, line in block)
    if b'"' not in joined and b"\x00" not in joined:
        try:
            text = joined.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            yield from _split_plain(path, names, block, text)
            return
    yield from _split_each(path, names, block)


def _split_plain(path: str, names: list[str], block: list[Line], text: str) -> Iterator[Chunk | ReadFailure]:
    """A block without quotes: split every line on commas in Arrow."""
    fields = pc.split_pattern(pa.array(text.split("\n"), pa.string()), ",")
    ok = pc.equal(pc.list_value_length(fields), len(names)).to_numpy(zero_copy_only=False)
    for (number, line), good in zip(block, ok, strict=True):
        if not good:
            yield _wrong_width(path, number, line.decode("utf-8"), line.count(b",") + 1, len(names))
    rows = fields.filter(pa.array(ok))
    if len(rows):
        columns = [pc.list_element(rows, i) for i in range(len(names))]
        numbers = [number for (number, _), good in zip(block, ok, strict=True) if good]
        yield _chunk(path, names, columns, numbers)


def _split_each(path: str, names: list[str], block: list[Line]) -> Iterator[Chunk | ReadFailure]:
    """Line by line: decode, refuse NUL bytes, parse with strict quoting, check the width."""
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, line in block:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield ReadFailure(path, number, "line is not valid UTF-8", line.decode("utf-8", "replace"))
            continue
        if "\x00" in text:
            yield ReadFailure(path, number, "line holds a NUL byte", text)
            continue
        try:
            fields = next(csv.reader([text], strict=True))
        except csv.Error as e:
            yield ReadFailure(path, number, f"bad CSV quoting '{e}'", text)
            continue
        if len(fields) != len(names):
            yield _wrong_width(path, number, text, len(fields), len(names))
            continue
        rows.append(fields)
        numbers.append(number)
    if rows:
        columns = [pa.array([row[i] for row in rows], pa.string()) for i in range(len(names))]
        yield _chunk(path, names, columns, numbers)


def _wrong_width(path: str, number: int, text: str, found: int, expected: int) -> ReadFailure:
    return ReadFailure(path, number, f"CSV row has {found} fields, header has {expected}", text)


def _chunk(path: str, names: list[str], columns: list[pa.Array], numbers: list[int]) -> Chunk:
    table = pa.Table.from_arrays([*columns, pa.array(numbers, pa.int64())], names=[*names, ROW_COLUMN])
    return Chunk(path, table)
