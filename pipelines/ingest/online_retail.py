"""UCI Online Retail: invoice lines as purchase events, stock codes as items.

An invoice is a basket (`session_id`); each line with a product, a customer and a positive
quantity and price is one `purchase`. Set aside, each with its reason: cancellation invoices
('C' prefix), non-positive quantities (returns and stock adjustments), stock codes that are
not products (postage, fees, manual adjustments, gift vouchers: anything but five digits
and an optional letter suffix), non-positive prices, lines without a customer (unless
`keep_guest_events`), and unparseable dates. Invoice dates are UK local time.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from pipelines.config import IngestSection
from pipelines.ingest.staging import (
    blank_to_null,
    finish,
    first_reason,
    nested_checks,
    number,
    shown,
    time_checks,
    to_utc,
)

PRODUCT_CODE = r"^\d{5}[A-Za-z]{0,2}$"
COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
           "CustomerID")
SOURCE_TIMEZONE = "Europe/London"


def _lines(raw: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"not an Online Retail table: missing columns {missing}")
    return raw.select(
        blank_to_null(pl.col("InvoiceNo")).alias("invoice"),
        blank_to_null(pl.col("StockCode")).str.to_uppercase().alias("code"),
        blank_to_null(pl.col("Description")).alias("title"),
        number(pl.col("Quantity")).alias("quantity"),
        to_utc("InvoiceDate", raw.schema["InvoiceDate"], "s", SOURCE_TIMEZONE).alias("ts"),
        pl.col("InvoiceDate").cast(pl.String).alias("_ts_text"),
        number(pl.col("UnitPrice")).alias("price"),
        # CustomerID arrives as float (17850.0) or text; ids are its integer digits.
        number(pl.col("CustomerID")).cast(pl.Int64, strict=False).cast(pl.String).alias("customer"),
        pl.lit(None, pl.String).alias("_reason"),
    ).with_columns(first_reason(*nested_checks(raw, *COLUMNS)))


def _line_reason(keep_guests: bool) -> pl.Expr:
    return first_reason(
        (pl.col("_reason").is_not_null(), pl.col("_reason")),
        (pl.col("invoice").is_null(), "missing InvoiceNo"),
        (pl.col("invoice").str.starts_with("C"), "cancellation invoice"),
        (pl.col("code").is_null(), "missing StockCode"),
        (~pl.col("code").str.contains(PRODUCT_CODE),
         pl.format("non-product stock code '{}'", shown(pl.col("code")))),
        (pl.col("quantity").is_null() | (pl.col("quantity") <= 0),
         "non-positive Quantity (return or adjustment)"),
        (pl.col("price").is_null() | (pl.col("price") <= 0), "non-positive UnitPrice"),
        (pl.lit(not keep_guests) & pl.col("customer").is_null(), "missing CustomerID"),
        *time_checks("InvoiceDate"),
    )


def stage_events(raw: pl.DataFrame, source: str, settings: IngestSection) -> pa.Table:
    """One purchase event per valid invoice line."""
    lines = _lines(raw).with_columns(_line_reason(settings.keep_guest_events))
    frame = lines.select(
        pl.coalesce(pl.col("customer"), pl.format("guest-{}", pl.col("invoice"))).alias("user_id"),
        pl.col("code").alias("item_id"),
        pl.lit("purchase").alias("event_type"),
        pl.col("ts"),
        pl.col("invoice").alias("session_id"),
        pl.lit(None, pl.String).alias("query"),
        pl.col("_reason"),
    )
    return finish(frame, raw, source, "events")


def stage_items(raw: pl.DataFrame, source: str, settings: IngestSection) -> pa.Table:
    """One item observation per valid invoice line; consolidation merges them per code.

    Lines refused as events are not items either, and are already quarantined by the events
    pass, so they are skipped here rather than quarantined twice.
    """
    lines = _lines(raw).with_columns(_line_reason(settings.keep_guest_events))
    keep = lines.get_column("_reason").is_null()
    frame = lines.filter(keep).select(
        pl.col("code").alias("item_id"),
        pl.col("title"),
        pl.lit(None, pl.String).alias("text"),
        pl.lit(None, pl.String).alias("category"),
        pl.lit(None, pl.String).alias("brand"),
        pl.col("price"),
        pl.col("_reason"),
    )
    return finish(frame, raw.filter(keep), source, "items")
