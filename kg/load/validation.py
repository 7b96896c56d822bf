"""Which input rows a load may store, and quarantine rows for those it may not.

Pure functions on Arrow batches: nothing here talks to a store. Each takes a batch and the
number of the input's first row in it (`first`), and returns what to store together with
quarantine rows (`kg.load.quarantine`) whose `row_number` is the row's place in its input
table, counted over all batches. Every refused row is refused for a reason of its own; one
bad value never takes its batch down.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError

from kg.arrow_schema import valid_mask, with_optional_columns
from kg.load.quarantine import quarantine_row
from kg.schema import Concept, Relation
from kg.store import ITEM_PARAMS, RELATION_ROWS, Row


def validate_relations(batch: pa.RecordBatch, first: int) -> tuple[pa.Table, np.ndarray, list[Row]]:
    """The valid rows of `batch` (a `RELATION_ROWS` table), their row numbers, quarantine rows for the rest.

    When the file's columns have the model's types, whole columns are checked at once
    (`valid_mask`) and the valid rows are taken as they are; only rows the mask refuses go
    through pydantic, whose verdict and message stand. Otherwise every row goes through
    pydantic and the table is rebuilt from what it made of them, so coercions (an int where a
    float belongs, other time units) follow the model. A file written before an optional field
    existed lacks its column; it reads as nulls (`with_optional_columns`), on the fast path too.
    """
    batch = with_optional_columns(batch, Relation)
    mask = valid_mask(batch, Relation)
    refused: list[Row] = []
    if mask is None:
        good: list[Row] = []
        numbers: list[int] = []
        for offset, row in enumerate(batch.to_pylist()):
            parsed = _parse(row)
            if isinstance(parsed, str):
                refused.append(quarantine_row(first + offset, row, f"invalid relation: {parsed}"))
            else:
                good.append({**parsed.model_dump(), "type": parsed.type.value})
                numbers.append(first + offset)
        return _storable(pa.Table.from_pylist(good, schema=RELATION_ROWS), np.array(numbers, dtype=np.int64),
                         refused)
    accepted = mask.to_numpy(zero_copy_only=False).copy()
    for suspect in np.flatnonzero(~accepted).tolist():
        row = batch.slice(suspect, 1).to_pylist()[0]
        parsed = _parse(row)
        if isinstance(parsed, str):
            refused.append(quarantine_row(first + suspect, row, f"invalid relation: {parsed}"))
        else:
            accepted[suspect] = True
    kept = np.flatnonzero(accepted)
    table = pa.Table.from_batches([batch]).select(RELATION_ROWS.names).take(kept).cast(RELATION_ROWS)
    return _storable(table, kept + first, refused)


def validate_items(batch: pa.RecordBatch, first: int) -> tuple[pa.Table, list[Row]]:
    """An items batch as the `ITEM_PARAMS` rows to store, and quarantine rows for the rest.

    The batch has `item_id` and any of title, category, brand and price (a missing column is all
    nulls). A row without an id, or with a NUL character in a string, is refused.
    """
    items = _item_rows(batch)
    with_id = pc.is_valid(items.column("id"))
    refused = [quarantine_row(first + index, batch.slice(index, 1).to_pylist()[0],
                              "invalid item: item_id: missing")
               for index in np.flatnonzero(pc.invert(with_id).to_numpy(zero_copy_only=False)).tolist()]
    numbers = np.flatnonzero(with_id.to_numpy(zero_copy_only=False)) + first
    items, _, refused = _storable(items.filter(with_id), numbers, refused, "item")
    return items, refused


def validate_concepts(batch: pa.RecordBatch, first: int) -> tuple[list[Row], list[Row]]:
    """A concepts batch as the rows pydantic makes of it, and quarantine rows for those it refuses.

    A concept holding a NUL character is refused too (see `_storable`); the reason names the
    first problem pydantic found, or the fields holding a NUL.
    """
    rows: list[Row] = []
    refused: list[Row] = []
    for number, raw in enumerate(batch.to_pylist(), start=first):
        try:
            concept = Concept.model_validate(raw).model_dump()
        except ValidationError as e:
            refused.append(quarantine_row(number, raw, f"invalid concept: {e.errors()[0]['msg']}"))
            continue
        if nul := _nul_problem(concept):
            refused.append(quarantine_row(number, raw, f"invalid concept: {nul}"))
        else:
            rows.append(concept)
    return rows, refused


def _parse(row: Row) -> Relation | str:
    """The relation pydantic makes of a row, or why it refuses it."""
    try:
        return Relation.model_validate(row)
    except ValidationError as e:
        return "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())


def _storable(rows: pa.Table, numbers: np.ndarray, refused: list[Row],
              what: str = "relation") -> tuple[pa.Table, np.ndarray, list[Row]]:
    """Valid rows less those with a NUL character in a string, which go to `refused`.

    FalkorDB strings end at a NUL: the MERGE fails on one (the whole batch with it) and the
    bulk stream would misread every value after it. A NUL in an id or a text is corruption
    upstream, so no store is sent one.
    """
    has_nul = pa.array(np.zeros(rows.num_rows, dtype=bool))
    for field in rows.schema:
        if field.type == pa.string():
            found = pc.match_substring(rows.column(field.name), "\x00")
            has_nul = pc.or_(has_nul, pc.fill_null(found, False))
    if not pc.any(has_nul).as_py():
        return rows, numbers, refused
    for index in np.flatnonzero(has_nul.to_numpy(zero_copy_only=False)).tolist():
        row = rows.slice(index, 1).to_pylist()[0]
        refused.append(quarantine_row(int(numbers[index]), row, f"invalid {what}: {_nul_problem(row)}"))
    keep = pc.invert(has_nul)
    return rows.filter(keep), numbers[keep.to_numpy(zero_copy_only=False)], refused


def _nul_problem(row: Row) -> str | None:
    """Which fields of a row hold a NUL character (in a string or a list of strings), if any."""
    def holds_nul(value: object) -> bool:
        values = value if isinstance(value, list) else [value]
        return any(isinstance(v, str) and "\x00" in v for v in values)

    fields = [name for name, value in row.items() if holds_nul(value)]
    return f"{', '.join(fields)}: holds a NUL character" if fields else None


def _item_rows(batch: pa.RecordBatch) -> pa.Table:
    """An items batch (`item_id` and any of title, category, brand, price) as an `ITEM_PARAMS` table."""
    columns = [batch.column("item_id")] + [
        batch.column(f.name) if f.name in batch.schema.names else pa.nulls(batch.num_rows, f.type)
        for f in list(ITEM_PARAMS)[1:]]
    return pa.Table.from_arrays(columns, names=ITEM_PARAMS.names).cast(ITEM_PARAMS)
