"""Instacart Online Grocery Shopping 2017: order lines as purchases, products as items.

The tables sit in one directory under their published names (`.gz` allowed): `orders.csv`,
`order_products__*.csv` (prior, train), `products.csv`, `aisles.csv`, `departments.csv`;
`kgrec ingest --format instacart --events DIR` reads them (`--items DIR2` adds a directory, if
the catalog files live apart). Other files (Kaggle's `sample_submission.csv`) are not read.

Events: each order line is a `purchase` by the order's user, `session_id` = order_id (the
basket). Items: `title` = product_name, `category` = "department > aisle" (Instacart's own
'missing' department or aisle counts as none).

Times: Instacart publishes no dates; per user only order_number, the weekday and hour
(order_dow, order_hour_of_day) and days_since_prior_order (capped at 30). Each user's clock is
rebuilt from a synthetic epoch, `EPOCH` (a Sunday; order_dow 0 is read as Sunday): order k lies
the sum of days_since_prior_order of the user's orders 2..k after the user's first day, which
falls in the epoch's week so that the weekday of the user's first order in the file is its
order_dow; at order_hour_of_day; the n-th product added to the cart n-1 seconds later. Where
some of a user's orders are absent (a sample: the shared one holds about one order per user),
each absent gap counts as the user's mean known gap, else the mean over all users. A user's
orders never go back in time (a later order_number is never earlier), so histories are in
order exactly; every user starts in the same week, so users compare only roughly.

Set aside, with the column and the value: ids that are missing or not integers, order_dow
outside 0-6, order_hour_of_day outside 0-23, days_since_prior_order that is not a number in
0-365 (missing is allowed on a user's first order only), add_to_cart_order not in 1-10000,
repeated ids (the first row wins), order lines whose order has no row in orders.csv ("unknown
order_id") or only a refused one ("unusable order_id"), and lines naming a product that
products.csv lacks. Refused orders.csv rows go to the events quarantine, refused catalog rows
to the items quarantine. Columns kgrec does not use (eval_set, reordered) are not checked.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pyarrow as pa

from pipelines.ingest.checks import (
    identifier,
    integer,
    integer_checks,
    number,
    number_checks,
    refuse_duplicates,
)
from pipelines.ingest.staging import (
    REASON,
    blank_to_null,
    failures_table,
    finish,
    first_reason,
    staged_schema,
)
from pipelines.ingest.tableset import Lookups, Prepared, Stream, TableSet, as_frame, read_table, refused

EPOCH = datetime(2017, 1, 1, tzinfo=UTC)
ORDER_COLUMNS = ("order_id", "user_id", "order_number", "order_dow", "order_hour_of_day",
                 "days_since_prior_order")
LINE_COLUMNS = ("order_id", "product_id", "add_to_cart_order")
PRODUCT_COLUMNS = ("product_id", "product_name", "aisle_id", "department_id")
NONE_NAME = "missing"  # Instacart's own name for "no department" / "no aisle"
_DAY_MS, _HOUR_MS = 86_400_000, 3_600_000


def stage_orders(raw: pl.DataFrame) -> pl.DataFrame:
    """Typed orders.csv rows with `_reason` (null for a good row), in source order."""
    number_ = integer("order_number")
    frame = raw.select(
        identifier("order_id").alias("order_id"), identifier("user_id").alias("user_id"),
        number_.alias("number"), integer("order_dow").alias("dow"),
        integer("order_hour_of_day").alias("hour"), number("days_since_prior_order").alias("days"),
        first_reason(
            *integer_checks("order_id", 1), *integer_checks("user_id", 1),
            *integer_checks("order_number", 1, 10_000), *integer_checks("order_dow", 0, 6),
            *integer_checks("order_hour_of_day", 0, 23),
            *number_checks("days_since_prior_order", 0, 365),
            ((number_ > 1) & blank_to_null(pl.col("days_since_prior_order")).is_null(),
             "missing days_since_prior_order (after a user's first order)"),
        ),
    )
    return refuse_duplicates(frame, "order_id", "order_id")


def order_times(orders: pl.DataFrame) -> pl.DataFrame:
    """Good orders (order_id, user_id, number, dow, hour, days) -> order_id, user_id, ts_ms.

    See the module docstring for the clock. Orders of one user are taken by order_number
    (then order_id, for the rare repeated number).
    """
    gap = pl.when(pl.col("number") > 1).then(pl.col("days"))
    per_user = orders.sort("user_id", "number", "order_id").with_columns(
        gap.alias("gap"), gap.mean().over("user_id").alias("user_gap"))
    overall = per_user.select(pl.col("gap").mean().fill_null(0.0)).item()
    known = (pl.col("number") > 1).cast(pl.Int64).cum_sum().over("user_id")
    absent = (pl.col("number") - 1 - known).clip(lower_bound=0)  # orders 2..k the file lacks
    offset = (pl.col("gap").fill_null(0.0).cum_sum().over("user_id")
              + absent * pl.col("user_gap").fill_null(overall)).floor().cast(pl.Int64)
    timed = per_user.with_columns(offset.alias("offset"))
    first_day = ((pl.col("dow") - pl.col("offset")) % 7 + 7) % 7  # the first order's weekday
    epoch_ms = int(EPOCH.timestamp() * 1000)
    ts = (epoch_ms + (first_day.first().over("user_id") + pl.col("offset")) * _DAY_MS
          + pl.col("hour") * _HOUR_MS)
    return timed.select("order_id", "user_id", ts.cum_max().over("user_id").alias("ts_ms"))


def _orders(path: str, rows_per_batch: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(order lookup: order_id, user_id, ts_ms; ids of refused orders; refused rows, staged)."""
    raw, failures = read_table(path, rows_per_batch, ORDER_COLUMNS)
    orders = stage_orders(raw)
    good = orders.filter(pl.col(REASON).is_null())
    unusable = orders.filter(pl.col(REASON).is_not_null() & pl.col("order_id").is_not_null()).select(
        "order_id").unique().join(good, on="order_id", how="anti")
    staged = finish(orders.select(REASON), raw, path, "events")
    return order_times(good).to_arrow(), unusable.to_arrow(), refused(staged, failures, "events")


def stage_order_lines(raw: pl.DataFrame, source: str, lookups: Lookups) -> pa.Table:
    """One purchase per order line; the order's user and time come from the orders lookup."""
    missing = [c for c in LINE_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"not an Instacart order_products table: missing columns {missing}")
    orders, unusable, products = (as_frame(lookups[n]) for n in ("orders", "unusable_orders", "products"))
    lines = raw.select(
        identifier("order_id").alias("session_id"), identifier("product_id").alias("item_id"),
        integer("add_to_cart_order").alias("cart"),
        first_reason(*integer_checks("order_id", 1), *integer_checks("product_id", 1),
                     *integer_checks("add_to_cart_order", 1, 10_000)).alias("_value_reason"),
    ).join(orders, left_on="session_id", right_on="order_id", how="left", maintain_order="left")
    order = pl.col("session_id")
    frame = lines.select(
        "user_id", "item_id", pl.lit("purchase").alias("event_type"),
        pl.from_epoch(pl.col("ts_ms") + (pl.col("cart") - 1) * 1000, time_unit="ms")
        .dt.replace_time_zone("UTC").alias("ts"),
        "session_id", pl.lit(None, pl.String).alias("query"),
        pl.coalesce("_value_reason", first_reason(
            (order.is_in(unusable.to_series().implode()),
             pl.format("unusable order_id '{}' (its orders.csv row is refused)", order)),
            (pl.col("ts_ms").is_null(), pl.format("unknown order_id '{}' (no row in orders.csv)", order)),
            (~pl.col("item_id").is_in(products.to_series().implode()),
             pl.format("unknown product_id '{}' (not in products.csv)", pl.col("item_id"))),
        )).alias(REASON),
    )
    return finish(frame, raw, source, "events")


def _names(path: str, id_column: str, name_column: str, rows_per_batch: int) -> tuple[pl.DataFrame, pa.Table]:
    """aisles.csv / departments.csv -> (id, name) of the good rows, and the refused rows (staged)."""
    raw, failures = read_table(path, rows_per_batch, (id_column, name_column))
    name = blank_to_null(pl.col(name_column))
    frame = refuse_duplicates(raw.select(
        identifier(id_column).alias("id"), pl.when(name != NONE_NAME).then(name).alias("name"),
        first_reason(*integer_checks(id_column, 1), (name.is_null(), f"missing {name_column}")),
    ), "id", id_column)
    good = frame.filter(pl.col(REASON).is_null()).select("id", "name")
    return good, refused(finish(frame.select(REASON), raw, path, "items"), failures, "items")


def _catalog(parts: dict[str, list[str]], rows_per_batch: int) -> tuple[pa.Table, pa.Table]:
    """(staged items: every products.csv row, plus refused aisle/department rows; good product ids)."""
    path = parts["products"][0]
    aisles, bad_aisles = _names(parts["aisles"][0], "aisle_id", "aisle", rows_per_batch)
    departments, bad_departments = _names(parts["departments"][0], "department_id", "department",
                                          rows_per_batch)
    raw, failures = read_table(path, rows_per_batch, PRODUCT_COLUMNS)
    products = raw.select(
        identifier("product_id").alias("item_id"), blank_to_null(pl.col("product_name")).alias("title"),
        identifier("aisle_id").alias("aisle_id"), identifier("department_id").alias("department_id"),
        first_reason(*integer_checks("product_id", 1), *integer_checks("aisle_id", 1),
                     *integer_checks("department_id", 1)),
    ).join(aisles.rename({"id": "aisle_id", "name": "aisle"}), on="aisle_id", how="left",
           maintain_order="left",
    ).join(departments.rename({"id": "department_id", "name": "department"}), on="department_id",
           how="left", maintain_order="left")
    frame = refuse_duplicates(products, "item_id", "product_id").with_columns(
        blank_to_null(pl.concat_str("department", "aisle", separator=" > ", ignore_nulls=True))
        .alias("category"))
    staged = finish(frame.select("item_id", "title", "category", REASON), raw, path, "items")
    known = frame.filter(pl.col(REASON).is_null()).select("item_id").to_arrow()
    return pa.concat_tables([staged, failures_table(failures, "items"), bad_aisles, bad_departments]), known


def prepare(parts: dict[str, list[str]], rows_per_batch: int) -> Prepared:
    """The orders' clock and the catalog, built once for every order-lines chunk."""
    orders, unusable, bad_orders = _orders(parts["orders"][0], rows_per_batch)
    items, products = _catalog(parts, rows_per_batch)
    return Prepared(lookups={"orders": orders, "unusable_orders": unusable, "products": products},
                    staged={"events": bad_orders, "items": items})


TABLE_SET = TableSet(
    name="Instacart",
    parts={"orders": r"orders\.csv", "order_lines": r"order_products__\w+\.csv", "products": r"products\.csv",
           "aisles": r"aisles\.csv", "departments": r"departments\.csv"},
    prepare=prepare,
    streams={"events": Stream("order_lines", stage_order_lines, staged_schema("events"))},
    single=frozenset({"orders", "products", "aisles", "departments"}),
)
