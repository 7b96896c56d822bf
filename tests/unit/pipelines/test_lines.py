"""Line-exact CSV reading: a broken line is one failure with its row number; every other line is read."""

import gzip
from pathlib import Path

import pyarrow as pa

from pipelines.ingest.chunks import ROW_COLUMN, Chunk, ReadFailure
from pipelines.ingest.lines import read_line_chunks


def _read(path: Path, rows_per_batch: int = 1000) -> tuple[list[dict[str, object]], list[ReadFailure]]:
    parts = list(read_line_chunks(str(path), rows_per_batch))
    tables = [p.table for p in parts if isinstance(p, Chunk)]
    rows = pa.concat_tables(tables).to_pylist() if tables else []
    return rows, [p for p in parts if isinstance(p, ReadFailure)]


def test_each_broken_line_is_one_failure_and_its_neighbours_survive(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_bytes(b'"a","b","c"\n'
                     b"1,2,3\n"
                     b'4,"5,6\n'            # unclosed quote: must not swallow the next lines
                     b"7,8,9\n"
                     b'10,"11"x,12\n'       # text after a closing quote
                     b"13,1\xff4,15\n"      # invalid UTF-8
                     b"16,1\x007,18\n"      # NUL byte
                     b"19,20\n"             # truncated
                     b"\n"                  # blank: not a row, but it counts as a line
                     b'22,"twenty, three",24\r\n')
    rows, failures = _read(path)
    assert [(r["a"], r["b"], r["c"], r[ROW_COLUMN]) for r in rows] == [
        ("1", "2", "3", 0), ("7", "8", "9", 2), ("22", "twenty, three", "24", 8)]
    assert [(f.row_number, f.reason) for f in failures] == [
        (1, "bad CSV quoting 'unexpected end of data'"),
        (3, "bad CSV quoting '',' expected after '\"''"),
        (4, "line is not valid UTF-8"),
        (5, "line holds a NUL byte"),
        (6, "CSV row has 2 fields, header has 3"),
    ]
    assert failures[0].raw == '4,"5,6'
    assert failures[2].raw == "13,1\ufffd4,15"


def test_quote_free_blocks_take_the_fast_path_with_the_same_result(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b\n1,2\n3\n5,6\n7,8,9\n")
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('a,b\n1,2\n3\n5,"6"\n7,8,9\n')
    fast, slow = _read(plain, rows_per_batch=2), _read(quoted, rows_per_batch=2)
    assert fast[0] == slow[0] == [{"a": "1", "b": "2", ROW_COLUMN: 0}, {"a": "5", "b": "6", ROW_COLUMN: 2}]
    assert [(f.row_number, f.reason, f.raw) for f in fast[1]] == [(f.row_number, f.reason, f.raw) for f in slow[1]] == [
        (1, "CSV row has 1 fields, header has 2", "3"), (3, "CSV row has 3 fields, header has 2", "7,8,9")]


def test_truncated_gzip_keeps_the_rows_before_and_says_where(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv.gz"
    whole = gzip.compress(b"a,b\n" + b"".join(b"%d,x\n" % n for n in range(50_000)))
    path.write_bytes(whole[: len(whole) // 2])
    rows, failures = _read(path, rows_per_batch=10_000)
    assert 10_000 < len(rows) < 50_000
    assert [(r["a"], r["b"], r[ROW_COLUMN]) for r in rows] == [(str(n), "x", n) for n in range(len(rows))]
    assert len(failures) == 1 and failures[0].row_number is None
    assert failures[0].reason.startswith(f"unreadable csv file after row {len(rows) - 1}: ")


def test_an_empty_or_missing_file_is_one_failure(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    for name in ("empty.csv", "absent.csv"):
        rows, failures = _read(tmp_path / name)
        assert rows == [] and len(failures) == 1 and failures[0].row_number is None
