"""CSV and TSV files, one row per line, each line judged alone.

Why per line: a quote that opens and never closes makes a CSV parser (Arrow's too) read the
lines after it into one value up to the next quote, so good rows vanish into a bad one, or into
a good-looking one. Taking each physical line as one row keeps damage to its own line: a line
with bad quoting (Python's `csv` in strict mode), the wrong number of fields or bytes that are not
UTF-8 is a failure naming its row, and its neighbours are read. The price: a quoted value cannot
span lines (each part is refused; JSON lines or Parquet carry such values). Every value stays
text: typing is the adapter's job, so one odd value cannot fail a block's type inference.

A NUL byte refuses its line: no text value holds one (the graph stores cannot), and a file that
has one is usually binary or damaged there.

Speed: a block of lines without a single quote character or NUL byte, where every line is one row,
cannot be read two ways, so Arrow parses it (about five times faster than `csv`); any other block, or
one Arrow refuses or counts differently, is read line by line. A line comes out the same either
way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv

from pipelines.ingest.chunks import Chunk, LineRefused, ReadFailure, numbered, unique_names
from pipelines.ingest.streams import LineBlocks, ended_early_reason

# Values read as missing: Arrow's CSV defaults ("", "NA", "NULL", "nan", ...), as before.
NULLS = frozenset(pacsv.ConvertOptions().null_values)
FIELD_LIMIT = 16 << 20  # characters a field may hold (csv's default, 128 KiB, refuses long texts)


def _fields(line: bytes, delimiter: str) -> list[str]:
    if b"\x00" in line:
        raise LineRefused("line holds a NUL byte")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LineRefused(f"line is not UTF-8 text: {e.reason} at byte {e.start}") from e
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True))
    except csv.Error as e:
        raise LineRefused(f"CSV line does not parse: {e}") from e


class _Lines:
    """The reading state of one file: its header, and the rows gathered for the next chunk."""

    def __init__(self, path: str, delimiter: str) -> None:
        self.path, self.delimiter = path, delimiter
        self.names: list[str] | None = None
        self.header_line = 0
        self.parts: list[pa.Table] = []
        self.rows = 0

    def block(self, data: bytes, first: int) -> Iterator[ReadFailure]:
        """Read one block of whole lines whose first line is line `first` of the file."""
        while self.names is None and data:  # the header: the first line that is not empty
            line, _, data = data.partition(b"\n")
            if line := line.removesuffix(b"\r"):
                try:
                    self.names, self.header_line = unique_names(_fields(line, self.delimiter)), first
                except LineRefused as e:
                    yield self._failure(first, str(e), line)
                    return
            first += 1
        if not data or (names := self.names) is None:
            return
        if b'"' not in data and b"\x00" not in data and (table := self._arrow(data, first)) is not None:
            self._add(table)
            return
        lines = data.split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()
        kept = [n for n, line in enumerate(lines, first) if line.removesuffix(b"\r")]
        rows: list[list[str]] = []
        numbers: list[int] = []
        for number in kept:
            line = lines[number - first].removesuffix(b"\r")
            try:
                fields = _fields(line, self.delimiter)
            except LineRefused as e:
                yield self._failure(number, str(e), line)
                continue
            if len(fields) != len(names):
                reason = f"CSV row has {len(fields)} fields, header has {len(names)}"
                yield self._failure(number, reason, line)
            else:
                rows.append(fields)
                numbers.append(number - self.header_line - 1)
        if rows:
            columns = [pa.array([None if v in NULLS else v for v in column], pa.string())
                       for column in zip(*rows, strict=True)]
            self._add(numbered(pa.table(columns, names=names), numbers))

    def _arrow(self, data: bytes, first: int) -> pa.Table | None:
        """The block parsed by Arrow, or None unless every non-empty line came out as one row."""
        assert self.names is not None
        if data.startswith((b"\n", b"\r\n")) or b"\n\n" in data or b"\n\r\n" in data:
            kept = [n for n, line in enumerate(data.split(b"\n"), first) if line.removesuffix(b"\r")]
        else:
            kept = list(range(first, first + data.count(b"\n") + (not data.endswith(b"\n"))))
        refused: list[int] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            refused.append(row.expected_columns)
            return "skip"

        try:
            table = pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(column_names=self.names, use_threads=False,
                                               block_size=len(data) + 1),
                parse_options=pacsv.ParseOptions(delimiter=self.delimiter, invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(self.names, pa.string()),
                                                     strings_can_be_null=True),
            )
        except pa.ArrowInvalid:  # bytes that are not UTF-8, ...
            return None
        if refused or table.num_rows != len(kept):
            return None
        return numbered(table, [n - self.header_line - 1 for n in kept])

    def _failure(self, number: int, reason: str, line: bytes) -> ReadFailure:
        row = None if self.names is None else number - self.header_line - 1
        if self.names is None:
            reason = f"unreadable CSV header: {reason}"
        return ReadFailure(self.path, row, reason, line.decode("utf-8", "replace"))

    def _add(self, table: pa.Table) -> None:
        self.parts.append(table)
        self.rows += table.num_rows

    def chunk(self) -> Chunk | None:
        """The rows gathered so far as one chunk (None if there are none)."""
        if not self.parts:
            return None
        table = pa.concat_tables(self.parts)
        self.parts, self.rows = [], 0
        return Chunk(self.path, table)


def csv_chunks(path: str, rows_per_batch: int, delimiter: str) -> Iterator[Chunk | ReadFailure]:
    """Chunks of about `rows_per_batch` rows and a failure per refused line, in file order.

    The first non-blank line is the header (a header that does not parse fails the file's
    reading there); row numbers count the lines after it, blank ones included. A damaged
    compressed file ends with one failure saying where it stopped.
    """
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    blocks = LineBlocks(path)
    lines = _Lines(path, delimiter)
    next_line = 0
    for data in blocks:
        for failure in lines.block(data, next_line):
            yield failure
            if lines.names is None:  # no header, no rows
                return
        next_line += data.count(b"\n") + (not data.endswith(b"\n"))
        if lines.rows >= rows_per_batch and (chunk := lines.chunk()) is not None:
            yield chunk
    if (chunk := lines.chunk()) is not None:
        yield chunk
    if blocks.ended_early is not None:
        row = None if lines.names is None else next_line - lines.header_line - 1
        tail = blocks.tail.decode("utf-8", "replace")
        yield ReadFailure(path, row, ended_early_reason(blocks, next_line), tail)
