from pathlib import Path

import numpy as np
import polars as pl
import pytest

from gnn.ids import IdMap, UnknownIdError
from kg.errors import InputDataError


def test_layout_is_users_then_items_then_concepts_sorted() -> None:
    ids = IdMap(["u2", "u1", "u2"], ["b", "a"], ["c:x"])
    assert ids.num_nodes == 5
    assert ids.encode("user", pl.Series(["u1", "u2"])).to_list() == [0, 1]
    assert ids.encode("item", pl.Series(["b", "a", "b"])).to_list() == [3, 2, 3]
    assert ids.encode("concept", pl.Series(["c:x"])).to_list() == [4]


def test_round_trip_through_the_saved_file(tmp_path: Path) -> None:
    ids = IdMap([f"u{i}" for i in range(50)], [f"i{i}" for i in range(30)], ["c:a"])
    ids.save(tmp_path / "ids.parquet")
    loaded = IdMap.load(tmp_path / "ids.parquet")
    items = pl.Series([f"i{i}" for i in (7, 3, 29)])
    nodes = loaded.encode("item", items).to_numpy()
    assert loaded.decode("item", nodes) == items.to_list()
    assert loaded.names == ids.names and loaded.offset == ids.offset


def test_unknown_ids_are_named() -> None:
    ids = IdMap(["u1"], ["a"])
    with pytest.raises(UnknownIdError, match="unknown item id\\(s\\): 'zz'"):
        ids.encode("item", pl.Series(["a", "zz"]))
    assert ids.encode("item", pl.Series(["a", "zz"]), strict=False).to_list() == [1, None]
    with pytest.raises(UnknownIdError):
        ids.decode("user", np.array([1]))


def test_an_edited_or_missing_mapping_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="no id mapping"):
        IdMap.load(tmp_path / "ids.parquet")
    IdMap(["u1", "u2"], ["a"]).save(tmp_path / "ids.parquet")
    table = pl.read_parquet(tmp_path / "ids.parquet").with_columns(pl.col("node").reverse())
    table.write_parquet(tmp_path / "ids.parquet")
    with pytest.raises(InputDataError, match="edited"):
        IdMap.load(tmp_path / "ids.parquet")
