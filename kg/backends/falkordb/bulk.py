"""New relationships as one FalkorDB `GRAPH.BULK` command, encoded a column at a time.

A first load creates relationships the graph cannot hold yet (`GraphStore.begin_load`).
`GRAPH.BULK` adds them without parsing Cypher or looking for existing edges: it cost the
server about 5 µs a relationship against about 30 µs for the MERGE, which had made the
server the limit of a load. The command's binary format (FalkorDB's `bulk_insert.c`, as the
falkordb-bulk-loader writes it): a header of the relationship type and property names, each
NUL-terminated after a 4-byte count, then per edge the source and destination node ids
(8 bytes each) and one value per property: a type byte, then nothing (null), 8 bytes (double
or integer), a NUL-terminated string, or an 8-byte length and that many values (array).

The server trusts this stream, so nothing reaches it unchecked: node ids come from the
store's own lookups, and a string holding a NUL character (which would end it early and
shift every value after it) is refused here; the loader quarantines such rows before (no
FalkorDB string can hold one). Properties follow `cypher.COPIED_ON_CREATE`, as the MERGE's
ON CREATE does, so a relationship is the same whichever way it was created.
"""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kg.cypher import COPIED_ON_CREATE, NEW_STATUS
from kg.schema import RelationType

NULL, DOUBLE, STRING, LONG, ARRAY = b"\x00", b"\x02", b"\x03", b"\x04", b"\x05"
PROPERTIES = ("id", *COPIED_ON_CREATE, "status", "created_at", "updated_at", "evidence_ids")


def _eight_bytes(values: np.ndarray) -> pa.Array:
    """The 8 little-endian bytes of each value, as a binary array."""
    buffers = [None, pa.py_buffer(values.tobytes())]
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(8), len(values), buffers).cast(pa.binary())


def _fixed(values: np.ndarray, tag: bytes) -> pa.Array:
    """`tag` + the 8 little-endian bytes of each value."""
    return pc.binary_join_element_wise(pa.scalar(tag), _eight_bytes(values), pa.scalar(b""))


def _values(column: pa.ChunkedArray) -> pa.Array:
    """One encoded value per row: strings, integers, doubles (non-finite ones as null, as in Cypher)."""
    column = column.combine_chunks()
    if pa.types.is_string(column.type):
        if pc.any(pc.match_substring(column, "\x00")).as_py():
            raise ValueError(f"a {column.type} value holds a NUL character, which GRAPH.BULK cannot carry")
        encoded = pc.binary_join_element_wise(pa.scalar(STRING), column.cast(pa.binary()), pa.scalar(b"\x00"),
                                              pa.scalar(b""))
        present = pc.is_valid(column)
    elif pa.types.is_floating(column.type):
        encoded = _fixed(column.fill_null(0).to_numpy().astype("<f8"), DOUBLE)
        present = pc.fill_null(pc.is_finite(column), False)
    elif pa.types.is_integer(column.type):
        encoded = _fixed(column.fill_null(0).to_numpy().astype("<i8"), LONG)
        present = pc.is_valid(column)
    else:
        raise TypeError(f"column of type {column.type} cannot be bulk-encoded")
    return pc.if_else(present, encoded, pa.scalar(NULL, pa.binary()))


def edges_blob(relation: RelationType, rows: pa.Table, source: np.ndarray, target: np.ndarray,
               now: int) -> bytes:
    """The relation-section token of `GRAPH.BULK` for `rows` (`RELATION_PARAMS`).

    `source`/`target` are the internal node ids of each row's head and tail.

    Raises:
        ValueError: a string holds a NUL character.
    """
    header = relation.value.encode() + b"\x00" + struct.pack("<I", len(PROPERTIES))
    header += b"".join(name.encode() + b"\x00" for name in PROPERTIES)
    if rows.num_rows == 0:
        return header
    now_value = LONG + struct.pack("<q", now)
    parts: list[pa.Array | pa.Scalar] = [
        _eight_bytes(np.ascontiguousarray(source, dtype="<u8")),
        _eight_bytes(np.ascontiguousarray(target, dtype="<u8")),
        *(_values(rows.column(name)) for name in ("id", *COPIED_ON_CREATE)),
        # status, created_at, updated_at, and evidence_ids: an array of one string
        pa.scalar(STRING + NEW_STATUS.encode() + b"\x00" + now_value + now_value
                  + ARRAY + struct.pack("<q", 1)),
        _values(rows.column("evidence_id")),
    ]
    encoded = pc.binary_join_element_wise(*parts, pa.scalar(b""))
    offsets = np.frombuffer(encoded.buffers()[1], dtype=np.int32)
    start, end = offsets[encoded.offset], offsets[encoded.offset + len(encoded)]
    body: bytes = encoded.buffers()[2].to_pybytes()[start:end]
    return header + body
