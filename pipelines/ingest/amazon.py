"""Amazon review data (McAuley lab), both releases: product metadata and reviews.

Which release a file is needs no setting: the reader tells JSON lines from Python-literal
lines per file, and each record's own fields say the rest.

- 2018 (Ni, Li & McAuley): JSON lines with `asin`, `title`, `description` (a list of
  strings), `category` (one path, a list), `brand`, `price` ("$12.99"), `also_buy`, `also_view`.
- 2014 (McAuley et al.): one Python literal a line (single quotes), with `asin`, `title`,
  `description` (a string), `categories` (a list of paths: the first one is taken), `brand`,
  `price` (a number), `salesRank` (not read), `related` {`also_bought`, `also_viewed`,
  `bought_together`, `buy_after_viewing`}.

Metadata lines become items plus `_links` (the product's lists, as `kg.schema.LinkKind`);
titles that are leftover HTML (the 2018 crawl has some, e.g. '<span class="a-size-medium ...')
and prices that are not prices (the crawl has CSS in a few) are treated as missing. A field that
holds the wrong kind of value for its release (a `related` that is text, a `category` that is a
mapping, a list holding numbers) refuses its row, naming the field. Review lines
(`reviewerID`, `asin`, `unixReviewTime`, both releases) become `review` events without sessions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from kg.schema import LinkKind
from pipelines.config import IngestSection
from pipelines.ingest.chunks import NESTED
from pipelines.ingest.staging import (
    LINKS,
    blank_to_null,
    column,
    finish,
    first_reason,
    nested_checks,
    price,
    time_checks,
    to_utc,
)

_STRINGS: TypeAdapter[list[str]] = TypeAdapter(list[str])
_PATHS: TypeAdapter[list[list[str]]] = TypeAdapter(list[list[str]])
LISTS_2018 = {"also_buy": LinkKind.ALSO_BOUGHT, "also_view": LinkKind.ALSO_VIEWED}
RELATED_2014 = {"also_bought": LinkKind.ALSO_BOUGHT, "also_viewed": LinkKind.ALSO_VIEWED,
                "bought_together": LinkKind.BOUGHT_TOGETHER,
                "buy_after_viewing": LinkKind.BOUGHT_AFTER_VIEWING}
STRUCTURED = ("description", "category", "categories", *LISTS_2018, "related")
T = TypeVar("T")
_LINK = pl.Struct({"b": pl.String, "kind": pl.String})


class Related(BaseModel):
    """2014 `related`: the lists of asins on a product's page (other keys are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    also_bought: list[str] = []
    also_viewed: list[str] = []
    bought_together: list[str] = []
    buy_after_viewing: list[str] = []


_RELATED: TypeAdapter[Related] = TypeAdapter(Related)


class FieldRefused(ValueError):
    """A metadata field holds the wrong kind of value; the message names the field."""


class _Record:
    """The structured fields of one metadata row, as the reader left them (JSON text for lists)."""

    def __init__(self, values: dict[str, str | None], nested: Iterable[str]) -> None:
        self.values = values
        self.nested = frozenset(nested)

    def listed(self, field: str, adapter: TypeAdapter[T]) -> T | None:
        """The field's list (or mapping), validated; None when absent."""
        value = self.values.get(field)
        if value is None:
            return None
        if field not in self.nested:
            raise FieldRefused(f"wrong type in {field}: text where a list belongs ({value[:40]!r})")
        try:
            return adapter.validate_json(value)
        except ValidationError as e:
            error = e.errors()[0]
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
            raise FieldRefused(f"wrong type in {field}: {where or 'the value'}: {error['msg']}") from e

    def text(self) -> str | None:
        """2014: the description string; 2018: the description's strings joined."""
        description = self.values.get("description")
        if description is None or "description" not in self.nested:
            return description
        return " ".join(s.strip() for s in self.listed("description", _STRINGS) or [])

    def category(self) -> str | None:
        """2018: the category path; 2014: the first of the category paths; ' > '-joined."""
        path = self.listed("category", _STRINGS)
        if path is None:
            paths = self.listed("categories", _PATHS)
            path = paths[0] if paths else None
        return " > ".join(s.strip() for s in path) if path else None

    def links(self) -> list[dict[str, str]]:
        """The asins the product's page lists, each with its kind."""
        found = [{"b": b, "kind": kind.value} for field, kind in LISTS_2018.items()
                 for b in self.listed(field, _STRINGS) or []]
        if (related := self.listed("related", _RELATED)) is not None:
            found += [{"b": b, "kind": kind.value} for field, kind in RELATED_2014.items()
                      for b in getattr(related, field)]
        return found


def _structured(raw: pl.DataFrame) -> pl.DataFrame:
    """text, category, `_links` and `_fields` (why a field was refused) per metadata row.

    Row by row in Python: each row's lists are validated alone, so a bad one refuses its row only.
    """
    present = [c for c in STRUCTURED if c in raw.columns]
    rows = raw.select(pl.col(present).cast(pl.String)).iter_rows() if present else iter([()] * raw.height)
    nested = raw.get_column(NESTED).to_list() if NESTED in raw.columns else [None] * raw.height
    columns: dict[str, list[object]] = {"text": [], "category": [], LINKS: [], "_fields": []}
    for values, keys in zip(rows, nested, strict=True):
        record = _Record(dict(zip(present, values, strict=True)), keys or ())
        try:
            fields: list[object] = [record.text(), record.category(), record.links(), None]
        except FieldRefused as e:
            fields = [None, None, [], str(e)]
        for name, value in zip(columns, fields, strict=True):
            columns[name].append(value)
    return pl.DataFrame(columns, schema={"text": pl.String, "category": pl.String, LINKS: pl.List(_LINK),
                                         "_fields": pl.String})



def _clean_title(expr: pl.Expr) -> pl.Expr:
    cleaned = blank_to_null(expr)
    return pl.when(cleaned.str.contains("<")).then(None).otherwise(cleaned)


def stage_items(raw: pl.DataFrame, source: str, settings: IngestSection) -> pa.Table:
    """One item per metadata line, with its links; duplicates of an asin are merged later."""
    structured = _structured(raw)
    frame = raw.select(
        blank_to_null(column(raw, "asin")).alias("item_id"),
        _clean_title(column(raw, "title")).alias("title"),
        blank_to_null(pl.lit(structured.get_column("text"))).alias("text"),
        blank_to_null(pl.lit(structured.get_column("category"))).alias("category"),
        blank_to_null(column(raw, "brand")).alias("brand"),
        price(column(raw, "price")).alias("price"),
        pl.lit(structured.get_column(LINKS)).alias(LINKS),
        pl.lit(structured.get_column("_fields")).alias("_fields"),
    ).with_columns(first_reason(
        *nested_checks(raw, "asin", "title", "brand", "price"),
        (pl.col("item_id").is_null(), "missing asin"),
        (pl.col("_fields").is_not_null(), pl.col("_fields")),
    )).drop("_fields")
    return finish(frame, raw, source, "items")


def stage_events(raw: pl.DataFrame, source: str, settings: IngestSection) -> pa.Table:
    """One review event per review line."""
    ts = (to_utc("unixReviewTime", raw.schema["unixReviewTime"], "s", "UTC")
          if "unixReviewTime" in raw.columns else pl.lit(None, pl.Datetime("ms", "UTC")))
    frame = raw.select(
        blank_to_null(column(raw, "reviewerID")).alias("user_id"),
        blank_to_null(column(raw, "asin")).alias("item_id"),
        pl.lit("review").alias("event_type"),
        ts.alias("ts"),
        pl.lit(None, pl.String).alias("session_id"),
        pl.lit(None, pl.String).alias("query"),
        column(raw, "unixReviewTime").cast(pl.String).alias("_ts_text"),
    ).with_columns(first_reason(
        *nested_checks(raw, "reviewerID", "asin", "unixReviewTime"),
        (pl.col("user_id").is_null(), "missing reviewerID"),
        (pl.col("item_id").is_null(), "missing asin"),
        *time_checks("unixReviewTime"),
    )).drop("_ts_text")
    return finish(frame, raw, source, "events")
