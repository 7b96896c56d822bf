"""Weak labels from Amazon's also_buy / also_view links: one kind of link a label, random unlinked negatives."""

import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from kg.errors import InputDataError
from pipelines.refine.weak_labels import read_links, weak_labels

RECORDS = [
    {"asin": "a1", "title": "x", "also_buy": ["a2", "zz", "a1"], "also_view": ["a3"]},
    {"asin": "a2", "also_buy": [], "also_view": ["a3"]},
    {"asin": "a3", "also_buy": ["a2"], "also_view": []},  # a2-a3 both bought and viewed
    {"asin": "a1", "also_buy": ["a4"]},  # a duplicate record adds its links
    {"asin": "a4"},
    {"asin": "a5", "also_buy": [], "also_view": []},
]


def _meta(path: Path) -> Path:
    path.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in RECORDS).encode()))
    return path


def test_links_are_unordered_pairs_of_known_asins_from_every_record(tmp_path: Path) -> None:
    links = read_links(_meta(tmp_path / "meta.json.gz"))
    assert links.rows() == [("a1", "a2", True, False), ("a1", "a3", False, True), ("a1", "a4", True, False),
                            ("a2", "a3", True, True)]


def test_one_kind_of_link_is_a_label_both_are_left_out_and_negatives_are_unlinked(tmp_path: Path) -> None:
    links = read_links(_meta(tmp_path / "meta.json.gz"))
    table = weak_labels(links, ["a1", "a2", "a3", "a4", "a5"], negatives=1.0, seed=3)
    labeled = table.filter(pl.col("label") != "unrelated")
    assert labeled.rows() == [("a1", "a2", "complement"), ("a1", "a3", "substitute"), ("a1", "a4", "complement")]
    unrelated = set(table.filter(pl.col("label") == "unrelated").select("a", "b").rows())
    assert len(unrelated) == 3 and all(a < b for a, b in unrelated)
    assert not unrelated & set(links.select("a", "b").rows())
    assert table.equals(weak_labels(links, ["a5", "a4", "a3", "a2", "a1"], negatives=1.0, seed=3))


def test_pairs_outside_the_catalog_are_dropped_and_impossible_negatives_refused(tmp_path: Path) -> None:
    links = read_links(_meta(tmp_path / "meta.json.gz"))
    assert weak_labels(links, ["a1", "a3"], negatives=0.0).rows() == [("a1", "a3", "substitute")]
    with pytest.raises(InputDataError, match="fewer than 1 unlinked pairs"):
        weak_labels(links, ["a1", "a3"], negatives=1.0)


def test_a_missing_or_foreign_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="no such Amazon metadata file"):
        read_links(tmp_path / "nope.json.gz")
    (tmp_path / "bad.json").write_text("not json\n")
    with pytest.raises(InputDataError, match="not Amazon metadata"):
        read_links(tmp_path / "bad.json")
