"""Column-at-a-time parameter encoding, read back by a real FalkorDB server."""

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from kg.backends.falkordb import server as falkordb_server
from kg.backends.falkordb.params import rows_literal
from kg.backends.falkordb.store import FalkorDBStore

HOSTILE = ['plain', 'say "hi"', "back\\slash", 'tail\\', '\\"', "new\nline\ttab", "`tick`", "}]) RETURN 1 //",
           "émoji ☕ 中文", "", "'single'"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FalkorDBStore]:
    state: Path = tmp_path_factory.mktemp("falkordb")
    info = falkordb_server.start(state)
    try:
        with FalkorDBStore(info.url, "params") as store:
            yield store
    finally:
        falkordb_server.stop(state)


def test_every_value_reads_back_as_sent(store: FalkorDBStore) -> None:
    n = len(HOSTILE)
    table = pa.table({
        "text": pa.array(HOSTILE), "count": pa.array(range(-5, n - 5), pa.int64()),
        "share": pa.array([0.1, 1e-5, 123456789.25, -2.5, 1e300, None, 0.0, 3.0, 1 / 3, 2.0, 5e-324]),
        "flag": pa.array([True, False, None] + [True] * (n - 3)),
    })
    rows = store._write_rows("UNWIND $rows AS row RETURN row.text AS text, row.count AS count, "
                             "row.share AS share, row.flag AS flag", table, now=0)
    # FalkorDB replies with doubles to 15 significant digits, so floats compare approximately.
    for got, sent in zip(rows, table.to_pylist(), strict=True):
        share = sent["share"]
        assert got == {**sent, "share": share if share is None else pytest.approx(share, rel=1e-14)}


def test_nulls_and_non_finite_numbers_are_left_out_and_read_as_null(store: FalkorDBStore) -> None:
    table = pa.table({"a": pa.array([None, "x"]), "b": pa.array([float("nan"), float("inf")])})
    assert rows_literal(table) == '[{},{`a`:"x"}]'
    rows = store._write_rows("UNWIND $rows AS row RETURN row.a AS a, row.b AS b", table, now=0)
    assert rows == [{"a": None, "b": None}, {"a": "x", "b": None}]
    assert rows_literal(table.slice(0, 0)) == "[]"


def test_unsupported_columns_are_named() -> None:
    with pytest.raises(TypeError, match="'when'"):
        rows_literal(pa.table({"when": pa.array([1], pa.timestamp("ms"))}))
    with pytest.raises(ValueError, match="map key"):
        rows_literal(pa.table({"a`b": pa.array([1])}))
