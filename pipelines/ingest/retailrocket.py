"""RetailRocket e-commerce logs: views, add-to-carts and transactions; items from property logs.

The files sit in one directory under their published names (`.gz` allowed): `events.csv`
(timestamp in ms, visitorid, event, itemid, transactionid), `item_properties*.csv` (the
published part1 and part2: timestamp, itemid, property, value) and `category_tree.csv`
(categoryid, parentid); `kgrec ingest --format retailrocket --events DIR` reads them.

Events: view -> `view`, addtocart -> `add_to_cart`, transaction -> `purchase` with
`session_id` = transactionid (the basket); views and carts have no session. Items: every item
with a good property row. `category` is the path of its latest `categoryid` value (greatest
timestamp; the later row on a tie) through the tree, root first, as ids ("1482 > 1224 > 1613":
RetailRocket publishes no names); a parent the tree lacks (absent or refused) starts the path.
The other properties' values are hashed by the publisher and not read; `available` is checked
(0 or 1) but the items table has no column for it. RetailRocket has no titles. Events are not
checked against the items: the property log covers a period, not the catalog.

Set aside, with the column and the value: timestamps that are not integer milliseconds in
1970-2100, ids that are missing or not integers, unknown event names, transactions without a
transactionid, categoryid values that are not integers and available values other than 0/1,
repeated categoryids in the tree (the first row wins) and categories on a parent cycle.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from pipelines.ingest.checks import Check, identifier, integer, integer_checks, refuse_duplicates, shown
from pipelines.ingest.chunks import ROW_COLUMN
from pipelines.ingest.staging import REASON, SOURCE, blank_to_null, finish, first_reason, staged_schema
from pipelines.ingest.tableset import (
    Lookups,
    Prepared,
    Stream,
    TableSet,
    as_frame,
    padded,
    read_table,
    refused,
)

EVENT_TYPES = {"view": "view", "addtocart": "add_to_cart", "transaction": "purchase"}
EVENT_COLUMNS = ("timestamp", "visitorid", "event", "itemid", "transactionid")
PROPERTY_COLUMNS = ("timestamp", "itemid", "property", "value")
MAX_MS = 4_102_444_800_000  # 2100-01-01
PROPERTY_SCHEMA = pa.schema([*staged_schema("items"), pa.field("_ts", pa.int64()),
                             pa.field("_property", pa.string()), pa.field("_value", pa.string())])


def _require(raw: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise ValueError(f"not a RetailRocket {what} table: missing columns {missing}")


def stage_events(raw: pl.DataFrame, source: str, lookups: Lookups) -> pa.Table:
    """One canonical event per events.csv row."""
    _require(raw, EVENT_COLUMNS, "events")
    event = blank_to_null(pl.col("event")).str.to_lowercase()
    purchase = event == "transaction"
    frame = raw.select(
        identifier("visitorid").alias("user_id"), identifier("itemid").alias("item_id"),
        event.replace_strict(EVENT_TYPES, default=None).alias("event_type"),
        pl.from_epoch(integer("timestamp"), time_unit="ms").dt.replace_time_zone("UTC").alias("ts"),
        pl.when(purchase).then(identifier("transactionid")).alias("session_id"),
        pl.lit(None, pl.String).alias("query"),
        first_reason(
            *integer_checks("timestamp", 0, MAX_MS), *integer_checks("visitorid", 0),
            (event.is_null(), "missing event"),
            (~event.is_in(list(EVENT_TYPES)), pl.format("unknown event '{}'", shown("event"))),
            *integer_checks("itemid", 0),
            *(_when(purchase, check) for check in integer_checks("transactionid", 0)),
        ),
    )
    return finish(frame, raw, source, "events")


def _when(condition: pl.Expr, check: Check) -> Check:
    return condition & check[0], check[1]


def stage_properties(raw: pl.DataFrame, source: str, lookups: Lookups) -> pa.Table:
    """Property rows in `PROPERTY_SCHEMA`, for `latest_items`.

    Kept: refused rows, and the good categoryid and available rows with their time; of the
    good rows of other properties, one per item (they only say the item exists), which keeps
    the hashed bulk of the log out of the shuffle.
    """
    _require(raw, PROPERTY_COLUMNS, "item_properties")
    prop = blank_to_null(pl.col("property"))
    value = blank_to_null(pl.col("value"))
    frame = raw.select(
        identifier("itemid").alias("item_id"), integer("timestamp").alias("_ts"),
        prop.alias("_property"),
        pl.when(prop == "categoryid").then(identifier("value")).otherwise(value).alias("_value"),
        first_reason(
            *integer_checks("timestamp", 0, MAX_MS), *integer_checks("itemid", 0),
            (prop.is_null(), "missing property"),
            *(_when(prop == "categoryid", check)
              for check in integer_checks("value", 0, label="categoryid value")),
            ((prop == "available") & ~value.is_in(["0", "1"]).fill_null(False),
             pl.format("available value not 0 or 1 '{}'", shown("value"))),
        ),
    )
    staged = as_frame(finish(frame.select("item_id", REASON), raw, source, "items")).hstack(
        frame.select("_ts", "_property", "_value"))
    good = pl.col(REASON).is_null()
    other = good & ~pl.col("_property").is_in(["categoryid", "available"])
    first_other = pl.when(other).then(pl.col("item_id")).is_first_distinct()
    return padded(staged.filter(~other | (other & first_other)).to_arrow(), PROPERTY_SCHEMA)


def latest_items(table: pa.Table, lookups: Lookups) -> pa.Table:
    """Every property row of some items -> one staged item each (refused rows pass through).

    The category is the item's latest categoryid value, as a path through the tree lookup.
    """
    rows = as_frame(table)
    good = rows.filter(pl.col(REASON).is_null())
    latest = (good.sort("_ts", SOURCE, ROW_COLUMN).group_by("item_id", maintain_order=True)
              .agg(pl.all().last()))
    categories = (good.filter(pl.col("_property") == "categoryid").sort("_ts", SOURCE, ROW_COLUMN)
                  .group_by("item_id").agg(pl.col("_value").last().alias("categoryid")))
    paths = as_frame(lookups["paths"])
    items = (latest.drop("category").join(categories, on="item_id", how="left")
             .join(paths, on="categoryid", how="left")
             .with_columns(pl.coalesce("path", "categoryid").alias("category")))
    bad = rows.filter(pl.col(REASON).is_not_null())
    return pa.concat_tables([padded(frame.to_arrow(), staged_schema("items")) for frame in (items, bad)])


def stage_tree(raw: pl.DataFrame) -> pl.DataFrame:
    """Typed category_tree.csv rows (categoryid, parentid) with `_reason`, in source order."""
    parent = blank_to_null(pl.col("parentid"))
    frame = raw.select(
        identifier("categoryid").alias("categoryid"), identifier("parentid").alias("parentid"),
        first_reason(*integer_checks("categoryid", 0),
                     *(_when(parent.is_not_null(), check) for check in integer_checks("parentid", 0)[1:])),
    )
    return refuse_duplicates(frame, "categoryid", "categoryid")


def category_paths(parents: dict[str, str | None]) -> tuple[dict[str, str], set[str]]:
    """Category -> its path (root first, ' > '), and the categories on a parent cycle (no path).

    `parents` maps each good category to its parent (None for a root). A parent it lacks, or
    one on a cycle, starts the path of its children.
    """
    paths: dict[str, str] = {}
    cyclic: set[str] = set()
    for start in parents:
        walk: list[str] = []
        node: str | None = start
        while node in parents and node not in paths and node not in cyclic and node not in walk:
            walk.append(node)
            node = parents[node]
        if node is not None and node in walk:  # the climb came back to itself
            cyclic.update(walk[walk.index(node):])
            walk = walk[: walk.index(node)]
        prefix = "" if node is None else paths.get(node, node)
        for category in reversed(walk):
            prefix = f"{prefix} > {category}" if prefix else category
            paths[category] = prefix
    return paths, cyclic


def prepare(parts: dict[str, list[str]], rows_per_batch: int) -> Prepared:
    """The category tree's paths, built once for every property chunk; refused tree rows."""
    path = parts["category_tree"][0]
    raw, failures = read_table(path, rows_per_batch, ("categoryid", "parentid"))
    tree = stage_tree(raw)
    good = tree.filter(pl.col(REASON).is_null())
    paths, cyclic = category_paths(dict(zip(good["categoryid"], good["parentid"], strict=True)))
    tree = tree.with_columns(
        pl.when(pl.col(REASON).is_null() & pl.col("categoryid").is_in(sorted(cyclic)))
        .then(pl.format("categoryid on a parent cycle '{}'", pl.col("categoryid")))
        .otherwise(pl.col(REASON)).alias(REASON))
    lookup = pa.table({"categoryid": pa.array(list(paths), pa.string()),
                       "path": pa.array(list(paths.values()), pa.string())})
    staged = finish(tree.select(REASON), raw, path, "items")
    return Prepared(lookups={"paths": lookup}, staged={"items": refused(staged, failures, "items")})


TABLE_SET = TableSet(
    name="RetailRocket",
    parts={"events": r"events\.csv", "properties": r"item_properties\w*\.csv",
           "category_tree": r"category_tree\.csv"},
    prepare=prepare,
    streams={"events": Stream("events", stage_events, staged_schema("events")),
             "items": Stream("properties", stage_properties, PROPERTY_SCHEMA, reduce=latest_items)},
    single=frozenset({"category_tree"}),
)
