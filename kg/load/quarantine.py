"""The quarantine: rows a load refused, each with where it was, why, and the row itself.

A load writes one Parquet file per relation batch that refused any row
(`batch-NNNNNN.parquet`) and one for items and concepts (`nodes.parquet`), all in
`QUARANTINE_SCHEMA`. A file is written before its batch is recorded as done, so a resumed
load keeps the refusals of the batches it skips, and counts each of them once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kg.store import Row

QUARANTINE_SCHEMA = pa.schema([("row_number", pa.int64()), ("reason", pa.string()), ("raw", pa.string())])


def quarantine_row(number: int, row: Row, reason: str) -> Row:
    """A quarantine row: where the row was, why it was refused, and the row itself as JSON."""
    return {"row_number": number, "reason": reason, "raw": json.dumps(row, default=str)}


def write_quarantine(path: Path, rows: list[Row]) -> None:
    """Refused rows of one batch (no file when none were refused)."""
    if rows:
        pq.write_table(pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA), path)


def quarantine_reasons(quarantine_dir: Path) -> dict[str, int]:
    """Refused rows per reason, the reason cut before any quoted value or detail."""
    counts: dict[str, int] = {}
    for path in sorted(quarantine_dir.glob("*.parquet")):
        for reason in pq.read_table(path, columns=["reason"]).column("reason").to_pylist():
            key = reason.split(" '")[0].split(":")[0]
            counts[key] = counts.get(key, 0) + 1
    return counts
