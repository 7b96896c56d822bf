"""JSON lines, and Python-literal lines (McAuley's 2014 Amazon files), read line by line.

Each line is parsed alone, so a line that is not an object (truncated, not UTF-8, a bare `[`,
a raw NUL byte, a number too long for Python, nesting too deep) is a failure naming its line
while its neighbours are read. With `literals`, a file is told apart by its first line that
parses as an object: JSON, or a Python literal read with `ast.literal_eval` (literals only,
never code); in a JSON file every line must be JSON. Values become text: strings as they are,
numbers and booleans as their JSON, lists and objects as JSON text with their key in `_nested`.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from typing import Literal

import pyarrow as pa

from pipelines.ingest.chunks import Chunk, LineRefused, ReadFailure, numbered, source_name
from pipelines.ingest.streams import LineBlocks, ended_early_reason, numbered_lines

Syntax = Literal["json", "literal"]
TextRow = dict[str, str | None]
_KINDS = {list: "a list", tuple: "a tuple", str: "a string", int: "a number", float: "a number",
          bool: "a boolean", type(None): "null", set: "a set"}


def _parse(line: bytes, syntax: Syntax | None) -> tuple[object, Syntax]:
    """The line's value and the syntax it was read in; `syntax` None: either, still undecided."""
    try:
        return json.loads(line), "json"
    except (ValueError, RecursionError) as e:  # JSONDecodeError, UnicodeDecodeError, digit limit
        if syntax == "json":
            raise LineRefused(f"line is not valid JSON: {e}") from e
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LineRefused(f"line is not UTF-8 text: {e.reason} at byte {e.start}") from e
    try:
        return ast.literal_eval(text), "literal"
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as e:
        what = "neither JSON nor a Python literal" if syntax is None else "not a Python literal"
        raise LineRefused(f"line is {what}: {e}") from e


def _text_row(record: object) -> tuple[TextRow, list[str]]:
    """One record as text values, and the keys whose values were lists or objects."""
    if not isinstance(record, dict):
        raise LineRefused(f"line is {_KINDS.get(type(record), 'a ' + type(record).__name__)}, not an object")
    row: TextRow = {}
    nested: list[str] = []
    for key, value in record.items():
        if not isinstance(key, str):
            raise LineRefused(f"line has a key that is not text: {key!r}")
        name = source_name(key)
        if value is None or isinstance(value, str):
            row[name] = value
            continue
        try:
            row[name] = json.dumps(value)
        except (TypeError, ValueError, RecursionError) as e:  # a set, bytes, a complex number
            raise LineRefused(f"line holds a value that is not JSON data: {key!r}, {e}") from e
        if isinstance(value, list | tuple | dict):
            nested.append(name)
    return row, nested


def record_chunks(path: str, rows_per_batch: int, literals: bool) -> Iterator[Chunk | ReadFailure]:
    """Chunks of about `rows_per_batch` rows and a failure per refused line, in file order."""
    blocks = LineBlocks(path)
    syntax: Syntax | None = None if literals else "json"
    batch = _Batch(path)
    next_line = 0
    for number, line in numbered_lines(blocks):
        next_line = number + 1
        if not line.strip():
            continue
        try:
            record, found = _parse(line, syntax)
            batch.add(number, line, *_text_row(record))
            syntax = syntax or found
        except LineRefused as e:
            yield ReadFailure(path, number, str(e), line.decode("utf-8", "replace"))
        if len(batch.rows) >= rows_per_batch:
            yield from batch.flush()
    yield from batch.flush()
    if blocks.ended_early is not None:
        yield ReadFailure(path, next_line, ended_early_reason(blocks, next_line),
                          blocks.tail.decode("utf-8", "replace"))


class _Batch:
    """Rows gathered for one chunk, with their line numbers and raw lines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.rows: list[TextRow] = []
        self.nested: list[list[str]] = []
        self.numbers: list[int] = []
        self.lines: list[bytes] = []

    def add(self, number: int, line: bytes, row: TextRow, nested: list[str]) -> None:
        self.rows.append(row)
        self.nested.append(nested)
        self.numbers.append(number)
        self.lines.append(line)

    def flush(self) -> Iterator[Chunk | ReadFailure]:
        """The gathered rows as one chunk; a row Arrow refuses (a lone surrogate) as a failure."""
        if not self.rows:
            return
        schema = pa.schema([(name, pa.string()) for name in dict.fromkeys(k for r in self.rows for k in r)])
        try:
            table = pa.Table.from_pylist(self.rows, schema=schema)
        except (pa.ArrowException, UnicodeError):
            keep = []
            for i, row in enumerate(self.rows):
                try:
                    pa.Table.from_pylist([row], schema=schema)
                    keep.append(i)
                except (pa.ArrowException, UnicodeError) as e:
                    yield ReadFailure(self.path, self.numbers[i], f"line holds text Arrow refuses: {e}",
                                      self.lines[i].decode("utf-8", "replace"))
            table = pa.Table.from_pylist([self.rows[i] for i in keep], schema=schema)
            self.nested, self.numbers = [self.nested[i] for i in keep], [self.numbers[i] for i in keep]
        if table.num_rows:
            yield Chunk(self.path, numbered(table, self.numbers, self.nested))
        self.rows, self.nested, self.numbers, self.lines = [], [], [], []
