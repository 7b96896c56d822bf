"""RetailRocket: events map to canonical types, items take their latest category path from the tree."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from pipelines.ingest import retailrocket
from pipelines.ingest.sources import list_files
from pipelines.ingest.tableset import split_locally, stage_locally
from tests._support import table_sets


def _directory(tmp_path: Path, events: list[str], part1: list[str], part2: list[str], tree: list[str]) -> Path:
    """The published layout: events.csv, item_properties_part1/2.csv, category_tree.csv."""
    for name, header, rows in (("events.csv", "timestamp,visitorid,event,itemid,transactionid", events),
                               ("item_properties_part1.csv", "timestamp,itemid,property,value", part1),
                               ("item_properties_part2.csv", "timestamp,itemid,property,value", part2),
                               ("category_tree.csv", "categoryid,parentid", tree)):
        (tmp_path / name).write_text("\n".join([header, *rows]) + "\n")
    return tmp_path


def _ingest(path: Path, rows_per_batch: int = 1000) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    return split_locally(stage_locally(retailrocket.TABLE_SET, list_files(str(path)), rows_per_batch))


def _reasons(quarantine: pl.DataFrame) -> list[tuple[str, int, str]]:
    return sorted(zip(quarantine["source"].str.extract(r"(\w+)\.csv$"), quarantine["row_number"],
                      quarantine["reason"], strict=True))


def test_events_map_to_view_add_to_cart_and_purchase_baskets(tmp_path: Path) -> None:
    events = ["1433221332117,257597,view,355908,", "1433221999827,111016,addtocart,318965,",
              "1433222276276,483717,transaction,253185,7", "1433222276276,483717,transaction,5,7",
              "1433222276276,1,view,2,99",  # a view's transactionid is not a basket
              "1433222276276,1,click,2,", "1433222276276,1,transaction,2,", "14332xx,1,view,2,",
              "99999999999999,1,view,2,", "1433222276276,,view,2,", "1433222276276,1,view,-2,"]
    path = _directory(tmp_path, events, ["1435460400000,355908,888,123 n4.000"], [], ["1,"])
    got, _, quarantine = _ingest(path)
    assert got.select("user_id", "item_id", "event_type", "session_id").rows() == [
        ("257597", "355908", "view", None), ("111016", "318965", "add_to_cart", None),
        ("483717", "253185", "purchase", "7"), ("483717", "5", "purchase", "7"), ("1", "2", "view", None)]
    assert got["ts"][0] == datetime(2015, 6, 2, 5, 2, 12, 117_000, tzinfo=UTC)
    assert _reasons(quarantine) == [
        ("events", 5, "unknown event 'click'"), ("events", 6, "missing transactionid"),
        ("events", 7, "timestamp is not an integer '14332xx'"),
        ("events", 8, "timestamp out of 0-4102444800000 '99999999999999'"),
        ("events", 9, "missing visitorid"), ("events", 10, "itemid below 0 '-2'")]


def test_items_take_the_latest_category_across_both_parts_as_a_tree_path(tmp_path: Path) -> None:
    part1 = ["1435460400000,460429,categoryid,1338", "1441508400000,460429,categoryid,1339",
             "1439089200000,206783,888,1116713 960601 n277.200", "1436065200000,253185,available,0",
             "1436065200000,253185,available,x", "1436065200000,253185,categoryid,cat",
             "1436065200000,77,categoryid,5", "1436065200000,78,categoryid,6", "1436065200000,79,categoryid,404"]
    part2 = ["1433041200000,460429,categoryid,1000", "1441508400000,253185,categoryid,0001339"]
    tree = ["1339,1338", "1338,1", "1,", "5,77777", "6,7", "7,6", "8,x", "1,2"]
    _, items, quarantine = _ingest(_directory(tmp_path, ["1433221332117,1,view,2,"], part1, part2, tree))
    assert dict(items.select("item_id", "category").iter_rows()) == {
        "460429": "1 > 1338 > 1339",  # the latest of three categoryid rows, in part1
        "253185": "1 > 1338 > 1339",  # '0001339' is category 1339; its refused rows do not count
        "206783": None,  # a hashed property only: the item exists, its category is unknown
        "77": "77777 > 5",  # a parent the tree lacks starts the path
        "78": "6",  # a category on a parent cycle has no path
        "79": "404",  # not in the tree
    }
    assert set(items["title"].to_list()) == {None}
    assert _reasons(quarantine) == [
        ("category_tree", 4, "categoryid on a parent cycle '6'"),
        ("category_tree", 5, "categoryid on a parent cycle '7'"),
        ("category_tree", 6, "parentid is not an integer 'x'"), ("category_tree", 7, "duplicate categoryid '1'"),
        ("item_properties_part1", 4, "available value not 0 or 1 'x'"),
        ("item_properties_part1", 5, "categoryid value is not an integer 'cat'")]


def test_category_paths_walk_up_to_a_root_and_stop_at_cycles() -> None:
    paths, cyclic = retailrocket.category_paths({"a": None, "b": "a", "c": "b", "d": "z", "e": "e", "f": "g",
                                                 "g": "h", "h": "f", "i": "g"})
    assert paths == {"a": "a", "b": "a > b", "c": "a > b > c", "d": "z > d", "i": "g > i"}
    assert cyclic == {"e", "f", "g", "h"}


def test_a_file_missing_a_column_is_refused_row_by_row_and_the_others_are_read(tmp_path: Path) -> None:
    path = _directory(tmp_path, ["1433221332117,1,view,2,"], ["1435460400000,2,categoryid,1"], [], ["1,"])
    (path / "item_properties_part2.csv").write_text("timestamp,itemid,prop,value\n1,2,3,4\n5,6,7,8\n")
    events, items, quarantine = _ingest(path)
    assert events.height == 1 and items.select("item_id", "category").rows() == [("2", "1")]
    assert quarantine["row_number"].to_list() == [0, 1]
    assert quarantine["reason"].str.contains("missing columns \\['property'\\]").all()


def test_fuzzed_lines_all_good_rows_arrive_and_every_broken_one_is_quarantined(tmp_path: Path) -> None:
    expected = table_sets.retailrocket(tmp_path, broken=1_200)
    events, items, quarantine = _ingest(tmp_path, rows_per_batch=700)
    assert events.height == expected.events
    assert quarantine.filter(pl.col("table") == "events").height == expected.quarantined_events
    assert quarantine.filter(pl.col("table") == "items").height == expected.quarantined_items
    assert dict(items.select("item_id", "category").iter_rows()) == expected.categories
