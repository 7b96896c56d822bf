"""Reading files in chunks: bad rows and bad files become failures, not crashes."""

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg.errors import InputDataError
from pipelines.ingest.chunks import NESTED, ROW_COLUMN, Chunk, ReadFailure
from pipelines.ingest.sources import file_format_of, list_files, read_chunks


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


def _csv(tmp_path: Path, body: bytes, name: str = "events.csv") -> tuple[pa.Table | None, list[ReadFailure]]:
    path = tmp_path / name
    path.write_bytes(b"user_id,item_id,ts\n" + body)
    return _split(list(read_chunks(str(path), "csv", 1000)))


def test_csv_bad_quoting_refuses_its_line_only(tmp_path: Path) -> None:
    # An unclosed quote, an escaped quote at the end of a line, text after a closing quote: each
    # would make a whole-file parser read the next lines into one value.
    table, failures = _csv(tmp_path, b'u1,i1,1\n"u2,i2,2\nu3,i3,3\nu4,"i4"",4\nu5,i5,5\n"u6"x,i6,6\nu7,"i,7",7\n')
    assert table is not None
    assert table.column("user_id").to_pylist() == ["u1", "u3", "u5", "u7"]
    assert table.column("item_id").to_pylist()[3] == "i,7"
    assert table.column(ROW_COLUMN).to_pylist() == [0, 2, 4, 6]
    assert [(f.row_number, f.reason.split(":")[0]) for f in failures] == [
        (1, "CSV line does not parse"), (3, "CSV line does not parse"), (5, "CSV line does not parse")]


def test_csv_lines_that_are_not_utf8_are_refused_and_numbers_then_text_stay_text(tmp_path: Path) -> None:
    numbers = b"".join(b"u%d,%d,%d\n" % (n, n, n) for n in range(3000))
    table, failures = _csv(tmp_path, numbers + b"u\xff\xfe,i,1\n" + b"u,item-text,1\n\n" + numbers)
    assert table is not None and table.num_rows == 6001
    assert table.schema.field("item_id").type == pa.string()
    assert table.column("item_id").to_pylist()[3000] == "item-text"
    assert [(f.row_number, f.reason) for f in failures] == [
        (3000, "line is not UTF-8 text: invalid start byte at byte 1")]
    assert table.column(ROW_COLUMN).to_pylist()[3001] == 3003  # the blank line counts, as a line


def test_csv_huge_values_nul_and_reserved_or_repeated_headers(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(b"_row,a,a\n" + b"x," + b"y" * 3_000_000 + b",z\nq,w\x00v,NULL\nr,s,NULL\n")
    table, failures = _split(list(read_chunks(str(path), "csv", 1000)))
    assert [(f.row_number, f.reason) for f in failures] == [(1, "line holds a NUL byte")]  # no store holds one
    assert table is not None and table.column_names == ["_row (source)", "a", "a (2)", ROW_COLUMN]
    assert len(table.column("a")[0].as_py()) == 3_000_000
    assert table.column("a")[1].as_py() == "s" and table.column("a (2)")[1].as_py() is None


def _jsonl(tmp_path: Path, lines: list[bytes], fmt: str = "jsonl") -> tuple[pa.Table | None, list[ReadFailure]]:
    path = tmp_path / "lines.json"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return _split(list(read_chunks(str(path), fmt, 1000)))  # type: ignore[arg-type]


def test_jsonl_lines_broken_in_every_way_are_refused_alone(tmp_path: Path) -> None:
    good = json.dumps({"user_id": "u", "ts": 1}).encode()
    lines = [good, b'{"user_id": "u\x00"}', b'{"user_id": "\xff"}', b"[" * 100_000, b'{"n": ' + b"9" * 5000 + b"}",
             b'{"user_id": "\\ud800"}', b"[", b'{"user_id": "u", "ts"', good]
    table, failures = _jsonl(tmp_path, lines)
    assert table is not None and table.column(ROW_COLUMN).to_pylist() == [0, 8]
    assert [f.row_number for f in failures] == [1, 2, 3, 4, 6, 7, 5]  # the surrogate is found when the chunk is built
    assert all(f.reason.startswith(("line is not valid JSON", "line holds text Arrow refuses")) for f in failures)


def test_jsonl_values_become_text_and_nested_keys_are_listed(tmp_path: Path) -> None:
    table, failures = _jsonl(tmp_path, [json.dumps({"a": [1, "x"], "b": {"c": None}, "d": "[not json", "e": True,
                                                    "_row": 3, "_nested": "mine"}).encode()])
    assert not failures and table is not None
    row = table.to_pylist()[0]
    assert (row["a"], row["b"], row["d"], row["e"]) == ('[1, "x"]', '{"c": null}', "[not json", "true")
    assert (row["_row (source)"], row["_nested (source)"], row[ROW_COLUMN]) == ("3", "mine", 0)
    assert row[NESTED] == ["a", "b"]


def test_literal_lines_are_told_apart_per_file_and_never_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "evaluated"
    literal = [b"{'asin': 'A1', 'related': {'also_bought': ['A2']}, 'price': 1.5}",
               b'{"asin": "A2", "ok": true}',  # JSON is welcome in a literal file
               f"__import__('pathlib').Path('{marker}').touch()".encode(), b"{'asin': 'A3', 'tags': {1, 2}}"]
    table, failures = _jsonl(tmp_path, literal, "jsonl_or_literal")
    assert table is not None and table.column("asin").to_pylist() == ["A1", "A2"]
    assert [f.row_number for f in failures] == [2, 3] and not marker.exists()
    assert failures[0].reason.startswith("line is not a Python literal")
    assert failures[1].reason.startswith("line holds a value that is not JSON data: 'tags'")
    table, failures = _jsonl(tmp_path, [b'{"asin": "A1"}', b"{'asin': 'A2'}"], "jsonl_or_literal")
    assert table is not None and table.column("asin").to_pylist() == ["A1"]  # a JSON file stays JSON
    assert failures[0].reason.startswith("line is not valid JSON")


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_truncated_compressed_file_gives_every_complete_line_and_says_where_it_ended(
        tmp_path: Path, suffix: str, fmt: str) -> None:
    import bz2
    import lzma

    header = b"user_id,n\n" if fmt == "csv" else b""
    lines = [(b"u%d,%d" % (n, n)) if fmt == "csv" else json.dumps({"user_id": f"u{n}", "n": n}).encode()
             for n in range(150_000 if suffix == ".bz2" else 30_000)]  # bzip2 gives back whole 900 kB blocks
    compress = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}[suffix]
    whole = compress(header + b"\n".join(lines) + b"\n")
    path = tmp_path / f"events.{'csv' if fmt == 'csv' else 'jsonl'}{suffix}"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    table, failures = _split(list(read_chunks(str(path), fmt, 10_000)))  # type: ignore[arg-type]
    assert table is not None and table.num_rows > len(lines) // 3
    [end] = failures
    n = table.num_rows
    assert table.column("user_id").to_pylist() == [f"u{i}" for i in range(n)]  # every line before the cut
    assert end.row_number == n and end.reason.startswith(f"file ends early: after {n + (1 if header else 0):,} complete")
    assert lines[n].startswith(end.raw.encode()) and len(end.raw) < len(lines[n])


def test_a_multi_member_gzip_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"user_id": "u1"}\n') + gzip.compress(b'{"user_id": "u2"}\n'))
    table, failures = _split(list(read_chunks(str(path), "jsonl", 1000)))
    assert not failures and table is not None and table.column("user_id").to_pylist() == ["u1", "u2"]


def test_a_csv_line_reads_the_same_whether_arrow_or_csv_parses_its_block(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.ingest import csv_lines

    parsed_by_arrow: list[bool] = []
    arrow = csv_lines._Lines._arrow
    monkeypatch.setattr(csv_lines._Lines, "_arrow",
                        lambda self, data, first: parsed_by_arrow.append(bool(t := arrow(self, data, first))) or t)
    body = b"u1,i1,NULL\r\n  ,i2,2\n\nu3,,3\nu5,i5,5\n"  # CRLF, a blank line, NULL, empty
    fast, fast_failures = _csv(tmp_path, body, "fast.csv")  # no quote anywhere: Arrow reads the block
    slow, slow_failures = _csv(tmp_path, body + b'u6,"i6",6\nu7,i7\n', "slow.csv")  # line by line
    assert parsed_by_arrow == [True] and fast is not None and slow is not None and not fast_failures
    assert slow.slice(0, fast.num_rows).equals(fast) and slow.num_rows == fast.num_rows + 1
    assert fast.to_pylist()[0] == {"user_id": "u1", "item_id": "i1", "ts": None, ROW_COLUMN: 0}
    assert fast.column("user_id").to_pylist() == ["u1", "  ", "u3", "u5"]
    assert fast.column(ROW_COLUMN).to_pylist() == [0, 1, 3, 4]
    assert [(f.row_number, f.reason) for f in slow_failures] == [(6, "CSV row has 2 fields, header has 3")]
