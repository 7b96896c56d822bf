"""Reading files in chunks: bad rows and bad files become failures, not crashes."""

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg.errors import InputDataError
from pipelines.ingest.sources import ROW_COLUMN, Chunk, ReadFailure, file_format_of, list_files, read_chunks


def _split(parts: list[Chunk | ReadFailure]) -> tuple[pa.Table | None, list[ReadFailure]]:
    tables = [p.table for p in parts if isinstance(p, Chunk)]
    failures = [p for p in parts if isinstance(p, ReadFailure)]
    return (pa.concat_tables(tables, promote_options="default") if tables else None), failures


def test_csv_row_with_wrong_field_count_is_a_failure_and_neighbours_survive(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("user_id,item_id,ts\nu1,i1,2026-01-01\nu2,i2,2026-01-02,EXTRA\nu3,i3,2026-01-03\n")
    table, failures = _split(list(read_chunks(str(path), "csv", 1000)))
    assert table is not None
    assert table.column("user_id").to_pylist() == ["u1", "u3"]
    assert all(pa.types.is_string(t) for t in table.schema.types[:3])
    assert len(failures) == 1
    assert failures[0].reason == "CSV row has 4 fields, header has 3"
    assert "EXTRA" in failures[0].raw


def test_jsonl_bad_line_is_named_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    lines = [json.dumps({"user_id": "u1", "n": 1}), "{not json", "[1, 2]", json.dumps({"user_id": "u2"})]
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    table, failures = _split(list(read_chunks(str(path), "jsonl", 2)))
    assert table is not None
    assert table.column("user_id").to_pylist() == ["u1", "u2"]
    assert table.column(ROW_COLUMN).to_pylist() == [0, 3]
    assert table.column("n").to_pylist() == ["1", None]  # values kept as text
    assert [(f.row_number, f.raw) for f in failures] == [(1, "{not json"), (2, "[1, 2]")]


def test_corrupt_parquet_file_is_one_failure(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    parts = list(read_chunks(str(path), "parquet", 1000))
    assert len(parts) == 1 and isinstance(parts[0], ReadFailure)
    assert parts[0].source == str(path) and "unreadable parquet" in parts[0].reason


def test_parquet_rows_are_numbered_across_batches(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": list(range(25))}), path)
    table, failures = _split(list(read_chunks(str(path), "parquet", 10)))
    assert not failures and table is not None
    assert table.column(ROW_COLUMN).to_pylist() == list(range(25))


def test_list_files_skips_hidden_and_marker_files(tmp_path: Path) -> None:
    (tmp_path / "a.parquet").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.csv").write_text("x\n")
    (tmp_path / "_SUCCESS.json").write_text("{}")
    (tmp_path / ".hidden").write_text("")
    assert list_files(str(tmp_path)) == [str(tmp_path / "a.parquet"), str(tmp_path / "sub" / "b.csv")]


def test_missing_path_and_unknown_extension_name_the_input(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="no such file"):
        list_files(str(tmp_path / "nope"))
    with pytest.raises(InputDataError, match="--format"):
        file_format_of("events.xlsx")
    assert file_format_of("x.JSONL.gz") == "jsonl"
