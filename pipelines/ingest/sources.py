"""Find input files and read them in bounded batches, turning unreadable parts into data.

A file that cannot be opened, or a CSV row with the wrong number of fields, or a JSON line
that does not parse, becomes a `ReadFailure` naming the file and line; the rest of the file
(and every other file) is still read. Paths may be local or any URI pyarrow understands
(s3://, gs://, hdfs://, ...).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from kg.errors import InputDataError
from pipelines.storage import filesystem_for

FileFormat = Literal["parquet", "csv", "jsonl"]

_EXTENSIONS: dict[str, FileFormat] = {
    ".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl",
    ".json": "jsonl", ".ndjson": "jsonl",
}


@dataclass(frozen=True)
class ReadFailure:
    """Something in a file that could not be read as rows."""

    source: str
    row_number: int | None
    reason: str
    raw: str


ROW_COLUMN = "_row"


@dataclass(frozen=True)
class Chunk:
    """Rows read from a file, all columns as read, plus `_row`: each row's 0-based number.

    Row numbers are exact for Parquet and JSON lines; for CSV they count parsed rows, so
    they run early by the number of malformed rows skipped before them.
    """

    source: str
    table: pa.Table


def _numbered(table: pa.Table, numbers: pa.Array) -> pa.Table:
    return table.append_column(ROW_COLUMN, numbers.cast(pa.int64()))


def file_format_of(path: str) -> FileFormat:
    """Format by extension (a trailing .gz is looked through)."""
    name = path.lower().removesuffix(".gz")
    for ext, fmt in _EXTENSIONS.items():
        if name.endswith(ext):
            return fmt
    raise InputDataError(path, "cannot tell the format from the extension; pass --format")


def list_files(path: str) -> list[str]:
    """Every data file under `path` (itself, if a file), sorted, hidden files skipped.

    Raises:
        InputDataError: nothing exists at `path`, or a directory holds no files.
    """
    filesystem, root = filesystem_for(path)
    info = filesystem.get_file_info(root)
    if info.type == pafs.FileType.NotFound:
        raise InputDataError(path, "no such file or directory")
    if info.type == pafs.FileType.File:
        return [path]
    selector = pafs.FileSelector(root, recursive=True)
    files = sorted(
        f.path for f in filesystem.get_file_info(selector)
        if f.type == pafs.FileType.File
        and not any(part.startswith((".", "_")) for part in f.path[len(root):].split("/"))
    )
    if not files:
        raise InputDataError(path, "directory holds no data files")
    if "://" in path:
        scheme = path.split("://", 1)[0]
        return [f"{scheme}://{f}" for f in files]
    return files


def _open(path: str) -> pa.NativeFile:
    """A sequential byte stream; Arrow decompresses by extension (.gz, .bz2, .zst, ...)."""
    filesystem, inner = filesystem_for(path)
    return filesystem.open_input_stream(inner, compression="detect")


def read_chunks(path: str, fmt: FileFormat, rows_per_batch: int) -> Iterator[Chunk | ReadFailure]:
    """Yield the file's rows in chunks of about `rows_per_batch`, and failures as they occur.

    Never raises for a bad file: an unreadable file yields one ReadFailure with row_number
    None (after any rows read before the fault).
    """
    readers = {"parquet": _parquet_chunks, "csv": _csv_chunks, "jsonl": _jsonl_chunks}
    try:
        yield from readers[fmt](path, rows_per_batch)
    except (OSError, pa.ArrowException, ValueError, EOFError) as e:
        yield ReadFailure(path, None, f"unreadable {fmt} file: {e}", "")


def _parquet_chunks(path: str, rows_per_batch: int) -> Iterator[Chunk | ReadFailure]:
    filesystem, inner = filesystem_for(path)
    with filesystem.open_input_file(inner) as stream:  # Parquet needs random access
        parquet = pq.ParquetFile(stream)
        first = 0
        for batch in parquet.iter_batches(batch_size=rows_per_batch):
            table = pa.Table.from_batches([batch])
            yield Chunk(path, _numbered(table, pa.array(range(first, first + table.num_rows))))
            first += batch.num_rows


def _csv_chunks(path: str, rows_per_batch: int) -> Iterator[Chunk | ReadFailure]:
    failures: list[ReadFailure] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        failures.append(ReadFailure(
            path, row.number - 2 if row.number is not None else None,
            f"CSV row has {row.actual_columns} fields, header has {row.expected_columns}",
            row.text,
        ))
        return "skip"

    delimiter = "\t" if path.lower().removesuffix(".gz").endswith(".tsv") else ","
    with _open(path) as stream:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=1 << 22),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid_row,
                                             newlines_in_values=True),
            # Everything as text: typing is the normalizer's job, so one odd value cannot
            # make a whole block fail type inference.
            convert_options=pacsv.ConvertOptions(column_types=None, strings_can_be_null=True,
                                                 auto_dict_encode=False),
        )
        schema = pa.schema([pa.field(name, pa.string()) for name in reader.schema.names])
        first = 0
        for batch in reader:
            yield from failures
            failures.clear()
            table = pa.Table.from_batches([batch])
            table = pa.table([c.cast(pa.string()) for c in table.columns], schema=schema)
            yield Chunk(path, _numbered(table, pa.array(range(first, first + table.num_rows))))
            first += table.num_rows
        yield from failures


def _jsonl_chunks(path: str, rows_per_batch: int) -> Iterator[Chunk | ReadFailure]:
    """Parse batches of lines; a bad line becomes a ReadFailure, its neighbours are kept."""
    with _open(path) as stream:
        lines: list[tuple[int, bytes]] = []
        for number, line in enumerate(io.BufferedReader(stream)):
            if line.strip():
                lines.append((number, line))
            if len(lines) >= rows_per_batch:
                yield from _parse_json_lines(path, lines)
                lines = []
        if lines:
            yield from _parse_json_lines(path, lines)


def _parse_json_lines(path: str, lines: list[tuple[int, bytes]]) -> Iterator[Chunk | ReadFailure]:
    objects: list[dict[str, object]] = []
    numbers: list[int] = []
    for number, line in lines:
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            yield ReadFailure(path, number, f"line is not valid JSON: {e}", text)
            continue
        if not isinstance(row, dict):
            yield ReadFailure(path, number, f"line is JSON {type(row).__name__}, not an object", text)
            continue
        objects.append(row)
        numbers.append(number)
    if objects:
        yield Chunk(path, _numbered(_to_text_table(objects), pa.array(numbers)))


def _to_text_table(rows: list[dict[str, object]]) -> pa.Table:
    """JSON objects -> a table of text columns (nested values kept as JSON text)."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {
        name: pa.array(
            [None if (v := row.get(name)) is None else v if isinstance(v, str) else json.dumps(v)
             for row in rows],
            pa.string(),
        )
        for name in names
    }
    return pa.table(columns)
