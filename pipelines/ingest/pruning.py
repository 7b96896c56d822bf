"""Which event files an incremental ingest can leave unread, told from their Parquet `ts` statistics.

A daily job's log grows by a file (or a directory of files) a day. Reading and checking the whole
history only to keep the events at or after `--since` made an increment cost most of a full run.
A Parquet file whose every row group records a `ts` maximum before `since` holds no event the
increment keeps, so it is not read at all.

Only a file whose footer proves it is skipped. Any file is read as before when:
- its format is not Parquet;
- it lacks statistics for the column;
- its `ts` column holds text or numbers (their meaning depends on parsing);
- it cannot be opened (the staging pass then reports the fault, naming the file).

Naive timestamps are read in the configured source time zone, as staging reads them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.ingest.sources import FileFormat, file_format_of
from pipelines.storage import filesystem_for

log = logging.getLogger("kgrec")


def files_reaching(files: list[str], since: datetime, ts_column: str, source_timezone: str,
                   file_format: FileFormat | None = None) -> list[str]:
    """The files that may hold an event at or after `since`, in their order.

    That is every file whose footer does not prove otherwise. `file_format` is the format every
    file is read as (the adapter's); None: each file's extension says (`--format auto`).
    """
    kept = [f for f in files if not _ends_before(f, since, ts_column, source_timezone, file_format)]
    if len(kept) < len(files):
        log.info("ingest: --since %s leaves %d of %d event file(s) unread: their ts statistics end "
                 "before it", since.isoformat(), len(files) - len(kept), len(files))
    return kept


def _ends_before(path: str, since: datetime, ts_column: str, source_timezone: str,
                 file_format: FileFormat | None) -> bool:
    try:
        if (file_format or file_format_of(path)) != "parquet":
            return False
        latest = _latest_ts(path, ts_column, source_timezone)
    except (OSError, pa.ArrowException, ValueError):
        return False  # read as before: staging names what is wrong with the file
    return latest is not None and latest < since.astimezone(UTC)


def _latest_ts(path: str, ts_column: str, source_timezone: str) -> datetime | None:
    """The largest `ts` the footer records, as a UTC instant; None if any row group lacks it."""
    filesystem, inner = filesystem_for(path)
    with filesystem.open_input_file(inner) as stream:
        metadata = pq.ParquetFile(stream).metadata
    schema = metadata.schema.to_arrow_schema()
    field = schema.field(ts_column) if ts_column in schema.names else None
    if field is None or not pa.types.is_timestamp(field.type):
        return None
    leaves = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
    column = leaves.index(ts_column)
    maxima = [metadata.row_group(g).column(column).statistics for g in range(metadata.num_row_groups)]
    if any(s is None or not s.has_min_max or not isinstance(s.max, datetime) for s in maxima):
        return None
    if not maxima:  # no row group: no event at all
        return datetime.min.replace(tzinfo=UTC)
    latest: datetime = max(s.max for s in maxima)
    if latest.tzinfo is not None:
        return latest.astimezone(UTC)
    # A zoned column's values are UTC instants; a naive one's are local times in the source zone
    # (fold=0 is the earlier of an ambiguous time, as staging's `ambiguous="earliest"`).
    return latest.replace(tzinfo=UTC if field.type.tz else ZoneInfo(source_timezone)).astimezone(UTC)
