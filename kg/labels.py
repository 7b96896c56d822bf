"""The labels file curators' decisions become: what `kgrec refine train-critic` trains from.

One row per curated relation (accepted or rejected) with its provenance and the critic's
score, paged out of the store by id. Written by `kgrec curate export` and by the workbench's
export button, to Parquet or, for a `.csv` path, CSV.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kg import cypher
from kg.errors import InputDataError

if TYPE_CHECKING:
    from kg.store import GraphStore

LABEL_SCHEMA = pa.schema([("id", pa.string()), ("type", pa.string()), ("head", pa.string()),
                          ("tail", pa.string()), ("status", pa.string()), ("status_by", pa.string()),
                          ("status_at", pa.int64()), ("model", pa.string()), ("prompt_version", pa.string()),
                          ("confidence", pa.float64()), ("critic_score", pa.float64()),
                          ("decided_by", pa.string())])


def export_labels(store: GraphStore, out: Path, named_by: str = "--out") -> int:
    """Write every curated label to `out` (.parquet, or .csv by its suffix); how many.

    Raises:
        InputDataError: `out`'s folder does not exist; the message names `named_by`, where
            the path came from (a flag or a config key).
    """
    if not out.parent.is_dir():
        raise InputDataError(str(out), f"its folder {out.parent} does not exist; make it or set another "
                             f"path ({named_by})")
    rows = [row for page in store.pages(cypher.CURATED_LABELS, {}) for row in page]
    table = pa.Table.from_pylist(rows, schema=LABEL_SCHEMA)
    if out.suffix == ".csv":
        pacsv.write_csv(table, out)
    else:
        pq.write_table(table, out)
    return int(table.num_rows)
