"""Seeded input files for the ingest fuzz tests: good lines mixed with lines broken every way real files break.

A `Mix` is one input file being written: each line is good (with the value it must become) or bad
(with the kind of damage), at a position drawn from the seed, so a test can check that every good
line arrives, every bad line is quarantined at its own row number, and the two add up to the input.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEED = 20261203
Maker = Callable[[random.Random, int], bytes]


@dataclass
class Mix:
    """The lines of one file; `good` and `bad` map a line's row number to what it is."""

    header: bytes | None = None  # CSV: row numbers count the lines after it
    lines: list[bytes] = field(default_factory=list)
    good: dict[int, Any] = field(default_factory=dict)
    bad: dict[int, str] = field(default_factory=dict)

    def _row(self) -> int:
        return len(self.lines)

    def add_good(self, line: bytes, expected: Any) -> None:
        self.good[self._row()] = expected
        self.lines.append(line)

    def add_bad(self, line: bytes, kind: str) -> None:
        assert line.strip(), kind  # a blank line is skipped, not refused
        self.bad[self._row()] = kind
        self.lines.append(line)

    def write(self, path: Path) -> Path:
        head = [self.header] if self.header is not None else []
        path.write_bytes(b"\n".join([*head, *self.lines]) + b"\n")
        return path

    @property
    def rows(self) -> int:
        """Non-blank lines of data (the header left out)."""
        return len(self.good) + len(self.bad)


def mixed(good: Callable[[random.Random, int], tuple[bytes, Any]], breaks: dict[str, Maker], n_good: int,
          n_bad: int, seed: int = SEED, header: bytes | None = None, blanks: int = 5,
          first: tuple[bytes, Any] | None = None) -> Mix:
    """`n_good` good lines and `n_bad` broken ones (each kind of `breaks` in turn), shuffled by `seed`.

    `first`, a good line put before the others: where a file's syntax is told by its first line.
    """
    rng = random.Random(seed)
    kinds = [name for _, name in zip(range(n_bad), _cycle(list(breaks)), strict=False)]
    slots: list[str | None] = [*kinds, *([None] * n_good), *(["blank"] * blanks)]
    rng.shuffle(slots)
    mix = Mix(header=header)
    if first is not None:
        mix.add_good(*first)
    for i, slot in enumerate(slots):
        if slot == "blank":
            mix.lines.append(b"")
        elif slot is None:
            mix.add_good(*good(rng, i))
        else:
            mix.add_bad(breaks[slot](rng, i), slot)
    return mix


def _cycle(names: list[str]) -> Any:
    while True:
        yield from names


def dumps(value: Any) -> bytes:
    """JSON as a line (non-ASCII kept as UTF-8)."""
    return json.dumps(value, ensure_ascii=False).encode()


def csv_line(*fields: str) -> bytes:
    """One CSV line as csv writes it (quoting fields that need it)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue().encode()


def truncated(line: bytes, rng: random.Random) -> bytes:
    """A strict prefix of a JSON line (never valid JSON, never blank)."""
    return line[: rng.randint(1, len(line) - 2)]


def literal(value: Any) -> bytes:
    """A Python literal as a line, the way McAuley's 2014 files were written (`str(dict)`)."""
    return repr(value).encode()


def line_breaks(make: Callable[[random.Random, int], dict[str, Any]], text_key: str,
                encode: Callable[[Any], bytes] = dumps) -> dict[str, Maker]:
    """Damage that any JSON (or literal) line can take; `text_key` names a string field to break into."""
    def line(rng: random.Random, i: int) -> bytes:
        return encode(make(rng, i))

    def inside(rng: random.Random, i: int, insert: bytes) -> bytes:
        record = make(rng, i)
        text = encode(record)
        value = encode(record[text_key])
        return text.replace(value, value[:2] + insert + value[2:], 1)

    return {
        "truncated JSON": lambda rng, i: truncated(line(rng, i), rng),
        "a [ that is not JSON": lambda rng, i: b"[" + line(rng, i),
        "a bare [": lambda rng, i: b"[",
        "a raw NUL byte": lambda rng, i: inside(rng, i, b"\x00"),
        "invalid UTF-8": lambda rng, i: inside(rng, i, b"\xff\xfe"),
        "an unescaped quote": lambda rng, i: inside(rng, i, encode("")[:1]),  # the quote its syntax uses
        "a number of 5,000 digits": lambda rng, i: line(rng, i)[:-1] + b', "n": ' + b"9" * 5000 + b"}",
        "nesting 50,000 deep": lambda rng, i: line(rng, i)[:-1] + b', "n": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        "not an object": lambda rng, i: rng.choice([b"42", b'"text"', b"null", b"[1, 2]"]),
    }


def with_value(make: Callable[[random.Random, int], dict[str, Any]], key: str, value: Any,
               encode: Callable[[Any], bytes] = dumps) -> Maker:
    """A good record with `key` set to `value` (deleted when value is ...)."""
    def maker(rng: random.Random, i: int) -> bytes:
        record = make(rng, i)
        if value is ...:
            del record[key]
        else:
            record[key] = value(rng) if callable(value) else value
        return encode(record)

    return maker
