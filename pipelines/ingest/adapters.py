"""Which reader and which row mapping each `--format` uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from pipelines.config import IngestFormat, IngestSection
from pipelines.ingest import amazon, generic, movielens, online_retail
from pipelines.ingest.sources import FileFormat

StageFn = Callable[[pl.DataFrame, str, IngestSection], pa.Table]


@dataclass(frozen=True)
class Adapter:
    """How one source format becomes staged events and items."""

    file_format: FileFormat | None  # None: decide per file by extension
    stage_events: StageFn
    stage_items: StageFn
    items_from_events: bool  # the events files also describe the items
    links: bool = False  # item rows carry `_links` (the catalog's lists): write the links table
    # An event's time is the source column mapped to `ts`, unchanged but for its zone: Parquet
    # footers then say which files `--since` can leave unread (pipelines.ingest.pruning).
    time_from_column: bool = False


ADAPTERS: dict[IngestFormat, Adapter] = {
    "auto": Adapter(None, generic.stage_events, generic.stage_items, False, time_from_column=True),
    "parquet": Adapter("parquet", generic.stage_events, generic.stage_items, False, time_from_column=True),
    "csv": Adapter("csv", generic.stage_events, generic.stage_items, False, time_from_column=True),
    "jsonl": Adapter("jsonl", generic.stage_events, generic.stage_items, False, time_from_column=True),
    "online-retail": Adapter(None, online_retail.stage_events, online_retail.stage_items, True),
    "amazon": Adapter("jsonl_or_literal", amazon.stage_events, amazon.stage_items, False, links=True),
    "movielens": Adapter("csv", movielens.stage_events, movielens.stage_items, False),
}
