"""Which relation ids a first load has already sent: a Bloom filter of bounded size.

A first load (`GraphStore.begin_load`) creates relationships without looking for existing
ones, which is only right for an id the load has not sent before: the input may repeat an
id, in one batch or across batches. An exact set of every id would grow with the input; a
Bloom filter has a fixed size and may only err one way, answering "maybe sent" for an id it
never saw. Such a row is MERGEd like any re-load, which costs time and is still correct; a
duplicate relationship is impossible.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

PROBES = 4
BITS_PER_ID = 10  # with 4 probes, about 1.2% of new ids read as "maybe sent"
MIN_BITS = 1 << 16
MAX_BITS = 1 << 30  # 128 MiB; past about 100M ids the false answers grow, correctness does not change


class SeenIds:
    """Ids sent so far by one load; sized for `expected` ids (the input's row count)."""

    def __init__(self, expected: int) -> None:
        wanted = max(MIN_BITS, min(MAX_BITS, expected * BITS_PER_ID))
        self._bits_log2 = (wanted - 1).bit_length()  # a power of two: a probe is a mask, not a modulo
        self._bits = np.zeros((1 << self._bits_log2) // 8, dtype=np.uint8)

    @property
    def size_bytes(self) -> int:
        """Memory the filter holds."""
        return int(self._bits.nbytes)

    def first_sightings(self, ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Record `ids`; True where an id certainly was not sent before (earlier, or earlier in `ids`)."""
        series = pl.Series(ids)
        hashes = series.hash(seed=0).to_numpy().astype(np.uint64)
        step = (hashes >> np.uint64(32)) | np.uint64(1)
        mask = np.uint64((1 << self._bits_log2) - 1)
        seen_before = np.ones(len(series), dtype=bool)
        probes = []
        for i in range(PROBES):
            position = (hashes + np.uint64(i) * step) & mask
            byte, bit = position >> np.uint64(3), np.uint8(1) << (position & np.uint64(7)).astype(np.uint8)
            seen_before &= (self._bits[byte] & bit) != 0
            probes.append((byte, bit))
        for byte, bit in probes:
            np.bitwise_or.at(self._bits, byte, bit)
        new: np.ndarray = ~seen_before & series.is_first_distinct().to_numpy()
        return new
