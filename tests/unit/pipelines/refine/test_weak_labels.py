"""Weak labels from an ingest's links table: one label a pair, both left out, random unlinked negatives."""

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from kg.arrow_schema import conform
from kg.errors import InputDataError
from kg.schema import Link
from pipelines.extract.quality import load_labels
from pipelines.ingest.links import linked_labels, read_links
from pipelines.refine.weak_labels import weak_labels

LINKS = [  # (a, b, kind) as `kgrec ingest` writes them: directed, deduplicated, both ends items
    ("a1", "a2", "also_bought"), ("a1", "a3", "also_viewed"), ("a2", "a3", "also_viewed"),
    ("a3", "a2", "bought_together"),  # a2-a3: bought with and viewed instead, so neither
    ("a1", "a4", "also_bought"), ("a4", "a1", "bought_after_viewing"),  # a1-a4 too
    ("a5", "a1", "bought_together"), ("a5", "a2", "bought_after_viewing"),
]


def _table(path: Path, rows: list[tuple[str, str, str]] = LINKS) -> Path:
    path.mkdir()
    table = pl.DataFrame(rows, schema=["a", "b", "kind"], orient="row").to_arrow()
    pq.write_table(conform(table, Link), path / "part-0.parquet")
    return path


def test_links_are_unordered_pairs_with_the_labels_their_kinds_read_as(tmp_path: Path) -> None:
    links = read_links(_table(tmp_path / "links"))
    assert links.rows() == [("a1", "a2", True, False), ("a1", "a3", False, True), ("a1", "a4", True, True),
                            ("a1", "a5", True, False), ("a2", "a3", True, True), ("a2", "a5", False, True)]
    assert linked_labels(links).rows() == [("a1", "a2", "complement"), ("a1", "a3", "substitute"),
                                           ("a1", "a5", "complement"), ("a2", "a5", "substitute")]


def test_one_label_a_pair_both_are_left_out_and_negatives_are_unlinked(tmp_path: Path) -> None:
    links = read_links(_table(tmp_path / "links"))
    ids = ["a1", "a2", "a3", "a4", "a5", "a6"]
    table = weak_labels(links, ids, negatives=1.0, seed=3)
    labeled = table.filter(pl.col("label") != "unrelated")
    assert labeled.rows() == linked_labels(links).rows()
    unrelated = set(table.filter(pl.col("label") == "unrelated").select("a", "b").rows())
    assert len(unrelated) == 4 and all(a < b for a, b in unrelated)
    assert not unrelated & set(links.select("a", "b").rows())
    assert table.equals(weak_labels(links, list(reversed(ids)), negatives=1.0, seed=3))


def test_pairs_outside_the_catalog_are_dropped_and_impossible_negatives_refused(tmp_path: Path) -> None:
    links = read_links(_table(tmp_path / "links"))
    assert weak_labels(links, ["a1", "a3"], negatives=0.0).rows() == [("a1", "a3", "substitute")]
    with pytest.raises(InputDataError, match="fewer than 1 unlinked pairs"):
        weak_labels(links, ["a1", "a3"], negatives=1.0)


def test_a_missing_or_foreign_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="no links table here"):
        read_links(tmp_path / "nope")
    with pytest.raises(InputDataError, match="unknown link kinds"):
        read_links(_table(tmp_path / "odd", [("a", "b", "similar")]))
    (tmp_path / "other").mkdir()
    pl.DataFrame({"x": [1]}).write_parquet(tmp_path / "other" / "part-0.parquet")
    with pytest.raises(InputDataError, match="not a links table"):
        read_links(tmp_path / "other")


def test_extract_score_reads_a_links_table_as_partial_weak_labels(tmp_path: Path) -> None:
    labels, commonsense, complete = load_labels(_table(tmp_path / "links"))
    assert labels.rows() == linked_labels(read_links(tmp_path / "links")).rows()
    assert commonsense is None and not complete
    assert load_labels(tmp_path / "links" / "part-0.parquet")[0].equals(labels)  # one file of it too
    pl.DataFrame({"x": [1]}).write_parquet(tmp_path / "x.parquet")
    with pytest.raises(InputDataError, match="neither ground truth"):
        load_labels(tmp_path / "x.parquet")
