"""Find input files and read them in bounded chunks, turning unreadable parts into data.

A file that cannot be opened, a CSV line with bad quoting or the wrong number of fields, a JSON
line that does not parse, bytes that are not UTF-8, or the end of a truncated compressed file
becomes a `ReadFailure` naming the file and row; the rest of the file (and every other file) is
still read. Paths may be local or any URI pyarrow understands (s3://, gs://, hdfs://, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from kg.errors import InputDataError
from pipelines.ingest.chunks import Chunk, ReadFailure, numbered
from pipelines.ingest.csv_lines import csv_chunks
from pipelines.ingest.records import record_chunks
from pipelines.storage import filesystem_for

# jsonl_or_literal: JSON lines or Python-literal lines, decided per file (records.py).
FileFormat = Literal["parquet", "csv", "jsonl", "jsonl_or_literal"]

_EXTENSIONS: dict[str, FileFormat] = {
    ".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl",
    ".json": "jsonl", ".ndjson": "jsonl",
}
_COMPRESSION = re.compile(r"\.(gz|bz2|xz|lzma|zst|lz4|br)$")


def _plain_name(path: str) -> str:
    """The lower-cased name without a compression suffix (.gz, .bz2, .zst, ...)."""
    return _COMPRESSION.sub("", path.lower())


def file_format_of(path: str) -> FileFormat:
    """Format by extension (a compression suffix such as .gz is looked through)."""
    name = _plain_name(path)
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


def read_chunks(path: str, fmt: FileFormat, rows_per_batch: int) -> Iterator[Chunk | ReadFailure]:
    """Yield the file's rows in chunks of about `rows_per_batch`, and failures as they occur.

    Never raises for a bad file: an unreadable file yields one ReadFailure with row_number
    None (after any rows read before the fault).
    """
    try:
        if fmt == "parquet":
            yield from _parquet_chunks(path, rows_per_batch)
        elif fmt == "csv":
            yield from csv_chunks(path, rows_per_batch, "\t" if _plain_name(path).endswith(".tsv") else ",")
        else:
            yield from record_chunks(path, rows_per_batch, literals=fmt == "jsonl_or_literal")
    except (OSError, pa.ArrowException, ValueError, EOFError) as e:
        yield ReadFailure(path, None, f"unreadable {fmt} file: {e}", "")


def _parquet_chunks(path: str, rows_per_batch: int) -> Iterator[Chunk | ReadFailure]:
    filesystem, inner = filesystem_for(path)
    with filesystem.open_input_file(inner) as stream:  # Parquet needs random access
        parquet = pq.ParquetFile(stream)
        first = 0
        for batch in parquet.iter_batches(batch_size=rows_per_batch):
            table = pa.Table.from_batches([batch])
            yield Chunk(path, numbered(table, list(range(first, first + table.num_rows))))
            first += batch.num_rows
