"""Typed values from text columns, each with the checks that refuse a row and say why.

The table-set adapters (Instacart, RetailRocket) read every column as text and decide row by
row: a value that is missing, not an integer, or out of range refuses its row with a reason
naming the column and showing the value (cut to `SHOWN_CHARS`, so a huge value cannot blow up
the quarantine). Checks are `(failed, message)` pairs for `staging.first_reason`; messages put
the value last in quotes, so `job.quarantine_reasons` groups them by the text before it.
"""

from __future__ import annotations

import polars as pl

from pipelines.ingest.staging import REASON, blank_to_null

Check = tuple[pl.Expr, str | pl.Expr]
SHOWN_CHARS = 40
_INTEGER = r"^[+-]?\d{1,18}$"  # 18 digits always fit Int64


def shown(name: str) -> pl.Expr:
    """The column's text as a reason shows it."""
    return pl.col(name).cast(pl.String).str.slice(0, SHOWN_CHARS)


def integer(name: str) -> pl.Expr:
    """The column as Int64; null when blank or not an integer."""
    text = blank_to_null(pl.col(name))
    return pl.when(text.str.contains(_INTEGER)).then(text).otherwise(None).cast(pl.Int64, strict=False)


def identifier(name: str) -> pl.Expr:
    """An integer id as canonical text ('007' and '7' are one id); null when not an integer."""
    return integer(name).cast(pl.String)


def integer_checks(name: str, low: int, high: int | None = None, label: str | None = None) -> list[Check]:
    """Missing, not an integer, below `low` or above `high`: the row is refused.

    Reasons name the column, or `label` where the column alone would not say what is wrong.
    """
    value, label = integer(name), label or name
    if high is None:
        out_of_range, bound = value < low, f"below {low}"
    else:
        out_of_range, bound = (value < low) | (value > high), f"out of {low}-{high}"
    return [
        (blank_to_null(pl.col(name)).is_null(), f"missing {label}"),
        (value.is_null(), pl.format(f"{label} is not an integer '{{}}'", shown(name))),
        (out_of_range, pl.format(f"{label} {bound} '{{}}'", shown(name))),
    ]


def number(name: str) -> pl.Expr:
    """The column as Float64; null when blank or not a finite number."""
    value = blank_to_null(pl.col(name)).cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value).otherwise(None)


def number_checks(name: str, low: float, high: float) -> list[Check]:
    """A present value that is not a finite number within [low, high] refuses the row."""
    text = blank_to_null(pl.col(name))
    value = number(name)
    return [
        (text.is_not_null() & value.is_null(), pl.format(f"{name} is not a number '{{}}'", shown(name))),
        ((value < low) | (value > high), pl.format(f"{name} out of {low:g}-{high:g} '{{}}'", shown(name))),
    ]


def refuse_duplicates(frame: pl.DataFrame, key: str, name: str) -> pl.DataFrame:
    """Refuse good rows whose `key` an earlier good row already has (the first one wins).

    `frame` holds `_reason` (null for good rows) and is in source order.
    """
    good_key = pl.when(pl.col(REASON).is_null()).then(pl.col(key))
    repeated = good_key.is_not_null() & ~good_key.is_first_distinct()
    return frame.with_columns(
        pl.when(repeated).then(pl.format(f"duplicate {name} '{{}}'", pl.col(key).str.slice(0, SHOWN_CHARS)))
        .otherwise(pl.col(REASON)).alias(REASON))
