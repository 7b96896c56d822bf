"""Row batches as FalkorDB parameter text, encoded a column at a time.

FalkorDB takes query parameters as text (`CYPHER rows=[{...},...] now=... <query>`). The
falkordb client writes that text value by value in Python, which in a bulk load cost the
client as much CPU as the whole MERGE cost the server. Relation batches arrive as Arrow
tables (`kg.store.relation_params`) and are encoded here with polars string kernels into the
same literal syntax: map keys in backticks, strings in double quotes with backslash and double
quote escaped, numbers in decimal notation, booleans as true/false. A null is left out of its
row's map (a missing key reads as null in Cypher), as are NaN and infinities, which Cypher has
no literal for.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa


def _field(name: str, dtype: pl.DataType) -> pl.Expr:
    """`` `name`:literal `` for one column, null where the value is null."""
    if "`" in name or not name:
        raise ValueError(f"column {name!r} cannot be a FalkorDB map key (empty or with a backtick)")
    column = pl.col(name)
    if dtype == pl.String:
        escaped = column.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
        value = pl.lit('"') + escaped + pl.lit('"')
    elif dtype.is_float():
        value = pl.when(column.is_finite()).then(column.cast(pl.String))
    elif dtype.is_integer():
        value = column.cast(pl.String)
    elif dtype == pl.Boolean:
        value = pl.when(column).then(pl.lit("true")).when(~column).then(pl.lit("false"))
    else:
        raise TypeError(f"column {name!r} has type {dtype}, which the FalkorDB encoder does not send")
    return pl.lit(f"`{name}`:") + value


def rows_literal(table: pa.Table) -> str:
    """A list-of-maps literal with one map per row of `table` (string, number and bool columns).

    Raises:
        TypeError: a column of another type (lists, structs, times: convert them first).
        ValueError: a column name that cannot be a map key.
    """
    if table.num_rows == 0:
        return "[]"
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    fields = [_field(name, dtype) for name, dtype in frame.schema.items()]
    maps = frame.select(pl.concat_str(fields, separator=",", ignore_nulls=True).fill_null("").alias("m"))
    return "[{" + "},{".join(maps["m"].to_list()) + "}]"
