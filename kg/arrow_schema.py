"""Derive Arrow schemas from the pydantic table models, so the models stay the one definition."""

from __future__ import annotations

import types
import typing
from datetime import datetime
from enum import Enum

import pyarrow as pa
from pydantic import BaseModel

TIMESTAMP = pa.timestamp("ms", tz="UTC")

_SCALARS: dict[type, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    datetime: TIMESTAMP,
}


def _arrow_type(annotation: object) -> tuple[pa.DataType, bool]:
    """Map one field annotation to (arrow type, nullable)."""
    nullable = False
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            raise TypeError(f"unsupported union annotation {annotation!r}")
        annotation = args[0]
    if typing.get_origin(annotation) is list:
        (inner,) = typing.get_args(annotation)
        return pa.list_(_arrow_type(inner)[0]), nullable
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return pa.string(), nullable
    if isinstance(annotation, type) and annotation in _SCALARS:
        return _SCALARS[annotation], nullable
    raise TypeError(f"no Arrow type for annotation {annotation!r}")


def arrow_schema_of(model: type[BaseModel]) -> pa.Schema:
    """Arrow schema with one field per model field, in declaration order.

    Field descriptions travel as Arrow field metadata (`description`), so a Parquet file is
    self-documenting for whoever opens it.
    """
    fields = []
    for name, info in model.model_fields.items():
        arrow_type, nullable = _arrow_type(info.annotation)
        metadata = {"description": info.description} if info.description else None
        fields.append(pa.field(name, arrow_type, nullable=nullable, metadata=metadata))
    return pa.schema(fields)


def conform(table: pa.Table, model: type[BaseModel]) -> pa.Table:
    """Select and cast `table`'s columns to the model's schema (order, types, metadata).

    Raises:
        KeyError: a model field has no column in `table` (a programming error upstream).
    """
    schema = arrow_schema_of(model)
    columns = [table.column(f.name).cast(f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)
