"""Labels files and curators' decisions become one checked table."""

from pathlib import Path

import polars as pl
import pytest

from kg.errors import InputDataError
from pipelines.refine.labels import labels_from_table, read_labels


def _csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_label_is_a_positive_for_its_kind_and_a_negative_for_the_others(tmp_path: Path) -> None:
    labels = read_labels([_csv(tmp_path / "l.csv", "a,b,label\nx2,x1,Complement\nx1,x3,unrelated\n")])
    rows = {(r["a"], r["b"], r["kind"]): r["positive"] for r in labels.rows.iter_rows(named=True)}
    assert rows == {("x1", "x2", "complement"): True, ("x1", "x2", "substitute"): False,
                    ("x1", "x2", "variant"): False, ("x1", "x3", "complement"): False,
                    ("x1", "x3", "substitute"): False, ("x1", "x3", "variant"): False}
    assert labels.pairs().rows() == [("x1", "x2"), ("x1", "x3")]


def test_curated_decisions_speak_of_their_own_kind_only(tmp_path: Path) -> None:
    path = tmp_path / "curated.parquet"
    pl.DataFrame({"id": ["1", "2", "3", "4"], "type": ["COMPLEMENTS", "VARIANT_OF", "CO_PURCHASED", "USED_FOR"],
                  "head": ["b", "a", "a", "a"], "tail": ["a", "c", "b", "concept:x"],
                  "status": ["accepted", "rejected", "accepted", "rejected"]}).write_parquet(path)
    labels = read_labels([path])
    assert labels.rows.select("a", "b", "kind", "positive").rows() == [
        ("a", "b", "complement", True), ("a", "c", "variant", False)]
    assert labels.ignored == {"CO_PURCHASED": 1, "USED_FOR": 1}


def test_unknown_labels_are_refused_with_file_and_line(tmp_path: Path) -> None:
    path = _csv(tmp_path / "l.csv", "a,b,label\nx1,x2,complement\nx1,x3,goes-with\n")
    with pytest.raises(InputDataError, match=r"l\.csv.*line 3: 'goes-with'"):
        read_labels([path])


def test_a_pair_labeled_two_ways_is_refused_naming_both_places(tmp_path: Path) -> None:
    first = _csv(tmp_path / "one.csv", "a,b,label\nx1,x2,complement\n")
    second = _csv(tmp_path / "two.csv", "a,b,label\nx3,x4,variant\nx2,x1,variant\n")
    with pytest.raises(InputDataError, match=r"\(x1, x2\) is labeled two ways.*one\.csv line 2.*two\.csv line 3"):
        read_labels([first, second])
    assert read_labels([first, first]).rows.height == 3  # the same label twice is not a conflict


def test_ids_not_in_the_catalog_are_counted_and_dropped(tmp_path: Path) -> None:
    path = _csv(tmp_path / "l.csv", "a,b,label\nx1,x2,complement\nx1,gone,variant\n")
    labels = read_labels([path], catalog=["x1", "x2"])
    assert labels.unknown_ids == 1 and labels.pairs().rows() == [("x1", "x2")]


def test_files_of_neither_layout_or_missing_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="needs columns a, b, label"):
        read_labels([_csv(tmp_path / "l.csv", "left,right\nx,y\n")])
    with pytest.raises(InputDataError, match="no such labels file"):
        read_labels([tmp_path / "nope.csv"])


def test_a_table_built_in_memory_is_read_and_checked_like_a_file() -> None:
    table = pl.DataFrame({"a": ["x2", "x1", "x1"], "b": ["x1", "x3", "gone"],
                          "label": ["substitute", "unrelated", "variant"]})
    labels = labels_from_table(table, "weak", catalog=["x1", "x2", "x3"])
    assert labels.unknown_ids == 1 and labels.pairs().rows() == [("x1", "x2"), ("x1", "x3")]
    assert labels.of_kind("substitute").rows() == [("x1", "x2", True), ("x1", "x3", False)]
    assert set(labels.rows["source"]) == {"weak"}
    with pytest.raises(InputDataError, match=r"weak.*line 2: 'bought'"):
        labels_from_table(table.with_columns(pl.Series("label", ["variant", "bought", "variant"])), "weak")
    with pytest.raises(InputDataError, match=r"\(x1, x2\) is labeled two ways.*weak line 1.*weak line 2"):
        labels_from_table(pl.DataFrame({"a": ["x1", "x2"], "b": ["x2", "x1"],
                                        "label": ["variant", "unrelated"]}), "weak")
    with pytest.raises(InputDataError, match="needs columns a, b, label"):
        labels_from_table(pl.DataFrame({"a": ["x1"]}), "weak")
