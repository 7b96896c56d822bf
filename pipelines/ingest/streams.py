"""Text files as blocks of whole lines, so that a damaged file still gives every complete line.

Arrow's decompressing streams, and Python's `gzip` module, hand out nothing of the last input
block once a compressed stream turns out to end early: a `.gz` cut short by an interrupted copy
loses its tail *and* the lines before it in that block. Here gzip, bzip2 and xz are decompressed
with the standard library's incremental decompressors, which return every byte the damaged input
holds (bzip2: every complete 900 kB block); the blocks then stop at the last complete line, and
the stream records why it stopped and the incomplete line it held back. Other codecs (zstd, lz4,
brotli, ...) go through Arrow, whose error ends the stream at the last line Arrow delivered.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable, Iterator
from typing import Protocol

import pyarrow as pa

from pipelines.storage import filesystem_for

PIECE = 1 << 20  # bytes read (and decompressed) at a time


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes) -> bytes: ...


_CODECS: dict[str, Callable[[], _Decompressor]] = {
    ".gz": lambda: zlib.decompressobj(wbits=31),  # gzip framing
    ".bz2": bz2.BZ2Decompressor,
    ".xz": lzma.LZMADecompressor,
    ".lzma": lzma.LZMADecompressor,
}


class TruncatedStream(Exception):
    """A compressed stream ended before its end-of-stream marker."""


# What a damaged stream raises: zlib.error, OSError (bz2, Arrow), LZMAError, EOFError, Arrow's own.
_DAMAGE = (zlib.error, OSError, lzma.LZMAError, EOFError, pa.ArrowException, TruncatedStream)


class LineBlocks:
    """The decompressed bytes of one file, as blocks that each end with a newline.

    Iterate once. A file that ends cleanly yields its last line even without a newline. A
    damaged one (truncated or corrupt compressed data, a failing read) stops at the last
    complete line: `ended_early` then says why, `tail` holds the incomplete line it held back
    and `delivered` counts the bytes handed out before it.

    Raises:
        OSError, pyarrow.ArrowException: the file cannot be opened at all (on construction).
    """

    def __init__(self, path: str) -> None:
        filesystem, inner = filesystem_for(path)
        name = path.lower()
        self._codec = next((codec for ext, codec in _CODECS.items() if name.endswith(ext)), None)
        self._stream = filesystem.open_input_stream(
            inner, compression=None if self._codec else "detect")
        self.ended_early: str | None = None
        self.tail = b""
        self.delivered = 0

    def __iter__(self) -> Iterator[bytes]:
        pending: list[bytes] = []
        try:
            with self._stream:
                for piece in self._pieces():
                    cut = piece.rfind(b"\n") + 1
                    if not cut:
                        pending.append(piece)
                        continue
                    block = b"".join([*pending, piece[:cut]])
                    pending = [piece[cut:]]
                    self.delivered += len(block)
                    yield block
        except _DAMAGE as e:
            self.ended_early = str(e) or type(e).__name__
            self.tail = b"".join(pending)
            return
        if rest := b"".join(pending):
            self.delivered += len(rest)
            yield rest

    def _pieces(self) -> Iterator[bytes]:
        if self._codec is None:
            while piece := self._stream.read(PIECE):
                yield piece
            return
        decompressor = self._codec()
        while data := self._stream.read(PIECE):
            while data:  # a file may hold several compressed members one after another
                if decompressor.eof:
                    decompressor = self._codec()
                yield decompressor.decompress(data)
                data = decompressor.unused_data if decompressor.eof else b""
        if not decompressor.eof:
            raise TruncatedStream("the compressed stream ends before its end marker (a truncated file?)")


def numbered_lines(blocks: LineBlocks) -> Iterator[tuple[int, bytes]]:
    """(0-based line number, line without its line ending) for every line of `blocks`."""
    number = 0
    for block in blocks:
        lines = block.split(b"\n")
        if block.endswith(b"\n"):
            lines.pop()
        for line in lines:
            yield number, line.removesuffix(b"\r")
            number += 1


def ended_early_reason(blocks: LineBlocks, complete_lines: int) -> str:
    """The quarantine reason for a stream that stopped short: where, and why."""
    return (f"file ends early: after {complete_lines:,} complete lines ({blocks.delivered:,} bytes of text), "
            f"{blocks.ended_early}; every line before was read, the incomplete one is in raw")
