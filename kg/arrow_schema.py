"""Derive Arrow schemas from the pydantic table models, so the models stay the one definition."""

from __future__ import annotations

import types
import typing
from datetime import datetime
from enum import Enum

import annotated_types
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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


def _enum_of(annotation: object) -> type[Enum] | None:
    """The Enum class of a field (`E` or `E | None`), if it is one."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return candidate
    return None


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


Columns = typing.TypeVar("Columns", pa.Table, pa.RecordBatch)


def with_optional_columns(data: Columns, model: type[BaseModel]) -> Columns:
    """`data` with an all-null column appended for each absent model field whose default is None.

    Tables outlive the model: a field added later as optional (nullable, default None) is
    absent from files written before it, and a row of such a file means what the model makes
    of a row without the key, which is null. Fields with any other default, and required
    ones, are not filled: their absence stays an error for the caller to raise.
    """
    for field in arrow_schema_of(model):
        if field.name not in data.schema.names and model.model_fields[field.name].default is None:
            data = data.append_column(field, pa.nulls(data.num_rows, field.type))
    return data


def conform(table: pa.Table, model: type[BaseModel]) -> pa.Table:
    """Select and cast `table`'s columns to the model's schema (order, types, metadata).

    An absent optional field (default None) becomes a column of nulls (`with_optional_columns`).

    Raises:
        KeyError: a required field, or one with another default, has no column in `table`
            (a programming error upstream).
    """
    schema = arrow_schema_of(model)
    table = with_optional_columns(table, model)
    columns = [table.column(f.name).cast(f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def same_values(schema: pa.Schema, target: pa.Field) -> bool:
    """Whether casting `schema`'s column to `target` changes no value.

    True for the same type, and for other string types (polars writes large strings).
    """
    if target.name not in schema.names:
        return False
    found = schema.field(target.name).type
    strings = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
    return bool(found == target.type or (target.type == pa.string() and any(is_(found) for is_ in strings)))


_BOUNDS = {annotated_types.Ge: ("ge", pc.greater_equal), annotated_types.Gt: ("gt", pc.greater),
           annotated_types.Le: ("le", pc.less_equal), annotated_types.Lt: ("lt", pc.less)}


def valid_mask(batch: pa.RecordBatch, model: type[BaseModel]) -> pa.BooleanArray | None:
    """Which rows `model` accepts, decided a column at a time; None when it cannot be decided so.

    Validating row by row through pydantic cost about 10 µs a row, more than the rest of a
    graph load's client work together. When the batch has exactly the model's columns with
    the model's Arrow types, pydantic's verdict follows from the columns alone: a required
    value is not null, an enum value is one of its members, a number is within its bounds
    (NaN is within none, as in pydantic). Any other constraint, list columns, validators of the
    model's own, or another column layout return None and the caller validates row by row.
    The mask never accepts a row pydantic would refuse; a test compares the two on hostile rows.
    """
    schema = arrow_schema_of(model)
    if set(batch.schema.names) != set(schema.names) or not all(same_values(batch.schema, f) for f in schema):
        return None
    # Lists (a null element), a model refusing NaN, or validators of its own: only pydantic knows.
    decorators = model.__pydantic_decorators__
    if (any(pa.types.is_nested(f.type) for f in schema) or model.model_config.get("allow_inf_nan") is False
            or decorators.field_validators or decorators.model_validators):
        return None
    mask = pa.array(np.ones(batch.num_rows, dtype=bool))
    for name, info in model.model_fields.items():
        column = batch.column(name)
        ok = pa.array(np.ones(batch.num_rows, dtype=bool))
        enum = _enum_of(info.annotation)
        if enum is not None:
            ok = pc.and_(ok, pc.is_in(column, value_set=pa.array([member.value for member in enum])))
        for constraint in info.metadata:
            if type(constraint) not in _BOUNDS:
                return None
            attribute, compare = _BOUNDS[type(constraint)]
            ok = pc.and_(ok, compare(column, getattr(constraint, attribute)))
        nullable = pa.scalar(schema.field(name).nullable)
        mask = pc.and_(mask, pc.if_else(pc.is_null(column), nullable, pc.fill_null(ok, False)))
    return mask
