"""Instacart: order lines become purchases on a rebuilt per-user clock; bad rows say which column and why."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from kg.errors import InputDataError
from pipelines.ingest import instacart
from pipelines.ingest.sources import list_files
from pipelines.ingest.tableset import file_parts, split_locally, stage_locally
from tests._support import table_sets
from tests._support.data import shared_data

HEADER = "order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order"


def _directory(tmp_path: Path, orders: list[str], lines: list[str], products: list[str] | None = None) -> Path:
    (tmp_path / "orders.csv").write_text("\n".join([HEADER, *orders]) + "\n")
    (tmp_path / "order_products__prior.csv").write_text(
        "\n".join(["order_id,product_id,add_to_cart_order,reordered", *lines]) + "\n")
    (tmp_path / "products.csv").write_text("\n".join(["product_id,product_name,aisle_id,department_id", *(
        products or ['1,"Spaghetti, No. 5",1,1', "2,Pasta Sauce,2,1", "3,Mystery,3,2"])]) + "\n")
    (tmp_path / "aisles.csv").write_text("aisle_id,aisle\n1,dry pasta\n2,pasta sauce\n3,missing\n")
    (tmp_path / "departments.csv").write_text("department_id,department\n1,dry goods pasta\n2,missing\n")
    return tmp_path


def _ingest(path: Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    return split_locally(stage_locally(instacart.TABLE_SET, list_files(str(path)), 1000))


def test_a_users_clock_follows_order_number_days_weekday_and_hour(tmp_path: Path) -> None:
    orders = ['10,7,"prior",1,3,"09",', '11,7,"prior",2,5,"18",2.0', '12,7,"prior",3,5,"08",7',
              '20,8,"prior",4,0,"10",4']  # user 8: orders 1-3 absent, each gap estimated as its known gap, 4
    lines = ["10,1,1,0", "10,2,2,0", "11,1,1,1", "12,2,1,1", "20,3,1,0"]
    events, _, quarantine = _ingest(_directory(tmp_path, orders, lines))
    assert quarantine.is_empty()
    times = dict(zip(zip(events["session_id"], events["item_id"], strict=True), events["ts"], strict=True))
    first = datetime(2017, 1, 4, 9, tzinfo=UTC)  # the epoch week's Wednesday (order_dow 3), 09:00
    assert first.weekday() == 2
    assert times["10", "1"] == first
    assert times["10", "2"] == first + timedelta(seconds=1)  # second in the cart
    assert times["11", "1"] == datetime(2017, 1, 6, 18, tzinfo=UTC)  # 2 days later, a Friday (5)
    assert times["12", "2"] == datetime(2017, 1, 13, 8, tzinfo=UTC)
    assert times["20", "3"] == datetime(2017, 1, 1, 10, tzinfo=UTC) + timedelta(days=7 * 2)  # 3 gaps of 4 days
    assert times["20", "3"].weekday() == 6  # a Sunday: order_dow 0
    assert set(events["user_id"]) == {"7", "8"} and set(events["event_type"]) == {"purchase"}


def test_orders_never_go_back_in_time() -> None:
    orders = pl.DataFrame({"order_id": ["1", "2"], "user_id": ["u", "u"], "number": [1, 2], "dow": [0, 0],
                           "hour": [20, 8], "days": [None, 0.0]})
    times = instacart.order_times(orders)["ts_ms"].to_list()
    assert times[0] == times[1]  # same day, an earlier hour: kept at the first order's time


def test_bad_values_name_the_column_and_lines_of_bad_or_absent_orders_are_refused(tmp_path: Path) -> None:
    orders = ['10,7,"prior",1,3,"09",', '11,7,"prior",2,9,"18",2', '12,7,"prior",3,5,"08",', '10,8,"prior",1,1,"01",',
              'x,7,"prior",4,5,"08",3']
    lines = ["10,1,1,0", "11,1,1,0", "12,1,1,0", "99,1,1,0", "10,4,2,0", "10,abc,3,0", "10,2,0,0", "10,2," + "9" * 50 + ",0"]
    events, _, quarantine = _ingest(_directory(tmp_path, orders, lines))
    assert events.select("session_id", "item_id").rows() == [("10", "1")]
    reasons = dict(zip(quarantine["row_number"].cast(str) + " " + quarantine["source"].str.extract(r"(\w+)\.csv$"),
                       quarantine["reason"], strict=True))
    assert reasons == {
        "1 orders": "order_dow out of 0-6 '9'",
        "2 orders": "missing days_since_prior_order (after a user's first order)",
        "3 orders": "duplicate order_id '10'",
        "4 orders": "order_id is not an integer 'x'",
        "1 order_products__prior": "unusable order_id '11' (its orders.csv row is refused)",
        "2 order_products__prior": "unusable order_id '12' (its orders.csv row is refused)",
        "3 order_products__prior": "unknown order_id '99' (no row in orders.csv)",
        "4 order_products__prior": "unknown product_id '4' (not in products.csv)",
        "5 order_products__prior": "product_id is not an integer 'abc'",
        "6 order_products__prior": "add_to_cart_order out of 1-10000 '0'",
        "7 order_products__prior": "add_to_cart_order is not an integer '" + "9" * 40 + "'",  # the value cut to 40
    }
    assert set(quarantine["table"]) == {"events"}
    assert '"order_dow":"9"' in quarantine.filter(pl.col("row_number") == 1)["raw"].to_list()[0]


def test_items_are_products_with_department_and_aisle(tmp_path: Path) -> None:
    products = ['1,"Spaghetti, No. 5",1,1', "2,Pasta Sauce,2,1", "3,Mystery,3,2", "4,,1,1", "5,Lost,7,1",
                "2,Again,1,1", "6,Bad,x,1"]
    _, items, quarantine = _ingest(_directory(tmp_path, ['10,7,"prior",1,3,"09",'], ["10,1,1,0"], products))
    assert items.sort("item_id").select("item_id", "title", "category").rows() == [
        ("1", "Spaghetti, No. 5", "dry goods pasta > dry pasta"), ("2", "Pasta Sauce", "dry goods pasta > pasta sauce"),
        ("3", "Mystery", None), ("4", None, "dry goods pasta > dry pasta"), ("5", "Lost", "dry goods pasta")]
    assert quarantine.select("table", "reason").rows() == [
        ("items", "duplicate product_id '2'"), ("items", "aisle_id is not an integer 'x'")]


def test_the_directory_must_hold_every_part_and_other_files_are_not_read(tmp_path: Path) -> None:
    path = _directory(tmp_path, ['10,7,"prior",1,3,"09",'], ["10,1,1,0"])
    (path / "sample_submission.csv").write_text("order_id,products\n1,2\n")
    parts, ignored = file_parts(instacart.TABLE_SET, list_files(str(path)))
    assert ignored == [str(path / "sample_submission.csv")]
    assert parts["order_lines"] == [str(path / "order_products__prior.csv")]
    (path / "aisles.csv").unlink()
    with pytest.raises(InputDataError, match="no Instacart aisles file"):
        file_parts(instacart.TABLE_SET, list_files(str(path)))


def test_fuzzed_lines_all_good_rows_arrive_and_every_broken_one_is_quarantined(tmp_path: Path) -> None:
    expected = table_sets.instacart(tmp_path, broken=1_200)
    events, items, quarantine = _ingest(tmp_path)
    assert events.height == expected.events
    assert items.height == expected.items
    assert quarantine.filter(pl.col("table") == "events").height == expected.quarantined_events
    assert quarantine.filter(pl.col("table") == "items").height == expected.quarantined_items
    assert events.null_count().select("user_id", "item_id", "ts", "session_id").sum_horizontal().item() == 0


@pytest.mark.shared_data
def test_the_shared_sample_quarantines_the_201_orders_it_lacks() -> None:
    events, items, quarantine = _ingest(shared_data("instacart_sample"))
    assert quarantine["reason"].str.starts_with("unknown order_id '").all()
    assert quarantine.height == 2_169
    assert quarantine["reason"].str.extract(r"'(\d+)'").n_unique() == 201
    assert events.height == 32_290 - 2_169
    assert events["user_id"].n_unique() == 2_954
    assert items.height == 49_688
    assert items.filter(pl.col("item_id") == "24852")["category"].item() == "produce > fresh fruits"
