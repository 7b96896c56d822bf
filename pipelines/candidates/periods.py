"""The candidates stage's state: partial counts per period, so a new day of events adds to the last run.

Pair, item, basket and query->item counts are sums (first/last seen are min/max), so the counts
of disjoint sets of events add up to the counts of their union. Each candidates output keeps the
counts of every period it covers under `counts/{pairs,queries}/period=<label>/bucket=<b>/`
(Parquet, bucketed by key: `pipelines.candidates.buckets`), and `counts/periods.json` says which
events each period counted and how the counts are bucketed. A full run writes one period,
`base`; `kgrec candidates --since T --previous DIR` counts only the events at or after T, carries
DIR's periods over (hard links: no copy) and computes the statistics from the merged counts,
which equal the counts of one full run over the same events.

Baskets are counted in the period that sees them: a basket (a session, a user's window) whose
events fall on both sides of T counts as two. Choose T between baskets (e.g. midnight, with
`user_window` baskets of a day or a divisor of one) for an increment that equals a full run.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from kg.errors import InputDataError, StageOutputError
from pipelines.candidates import buckets
from pipelines.outputs import require_complete

BASE = "base"
KINDS = ("pairs", "queries")
LABEL_FORMAT = "%Y%m%dT%H%M%SZ"


class Period(BaseModel):
    """One period's counts: which events they are of."""

    label: str = Field(description="Partition name: 'base' for a full run, else the since time.")
    since: datetime | None = Field(description="Events at or after this time were counted; None: all.")
    first: datetime | None = Field(description="Its earliest event counted.")
    last: datetime | None = Field(description="Its latest event counted.")
    events: int


class Periods(BaseModel):
    """`counts/periods.json`: the periods a candidates output's counts cover, oldest first."""

    periods: list[Period] = Field(default_factory=list)
    buckets: int | None = Field(default=None, description="Buckets every period's counts are in; "
                                "None: written before counts were bucketed.")
    bucket_hash: str | None = Field(default=None, description="The hash that chose each key's bucket.")

    @property
    def last_event(self) -> datetime | None:
        """The latest event any period counted."""
        times = [p.last for p in self.periods if p.last is not None]
        return max(times) if times else None


def label_for(since: datetime | None) -> str:
    """The partition name of the period starting at `since` (`base` for all events)."""
    return BASE if since is None else since.astimezone(UTC).strftime(LABEL_FORMAT)


def read_periods(candidates_dir: Path) -> Periods:
    """The periods of a candidates output (none for an output without counts)."""
    path = candidates_dir / "counts" / "periods.json"
    return Periods.model_validate_json(path.read_text()) if path.exists() else Periods()


def check_increment(previous: Path | None, since: datetime | None) -> Periods:
    """The periods `previous` holds, checked against `since` (none for a full run).

    Raises:
        StageOutputError: `previous` is not a finished candidates output, or holds no counts.
        InputDataError: `since` without `previous` or the reverse, or `since` not after every
            event `previous` counted (they would be counted twice).
    """
    if previous is None:
        if since is not None:
            raise InputDataError("--since", "an increment needs the previous candidates output "
                                 "(--previous) whose counts it adds to")
        return Periods()
    require_complete(previous, "candidates", "--previous")
    held = read_periods(previous)
    if not held.periods:
        raise StageOutputError(str(previous), "holds no counts (counts/periods.json; written by kgrec "
                               "candidates since incremental runs); run `kgrec candidates` on it again")
    if held.buckets is None or held.bucket_hash != buckets.HASH:
        raise StageOutputError(str(previous), "holds counts that are not bucketed as this kgrec adds to "
                               f"({buckets.HASH}; counts/periods.json); run a full `kgrec candidates` "
                               "to count them again")
    if since is None:
        raise InputDataError("--previous", "an increment needs --since: the time of its first new event")
    last = held.last_event
    if last is not None and since <= last:
        raise InputDataError("--since", f"{since.isoformat()} is not after the last event {previous} "
                             f"counted ({last.isoformat()}): those events would be counted twice; pass a "
                             "later --since")
    return held


def carry_over(previous: Path | None, out_dir: Path) -> None:
    """Start `out_dir/counts` afresh with `previous`'s periods (hard-linked), if any."""
    counts = out_dir / "counts"
    if counts.exists():
        shutil.rmtree(counts)
    counts.mkdir(parents=True)
    if previous is None:
        return
    for kind in KINDS:
        for source in sorted(kind_dir(previous, kind).glob("period=*")):
            _link_tree(source, kind_dir(out_dir, kind) / source.name)


def write_periods(out_dir: Path, periods: Periods) -> None:
    """Record the periods `out_dir/counts` holds (written last: the counts are complete)."""
    (out_dir / "counts" / "periods.json").write_text(periods.model_dump_json(indent=2))


def kind_dir(out_dir: Path, kind: str) -> Path:
    """Where every period's counts of `kind` ('pairs' or 'queries') lie."""
    return out_dir / "counts" / kind


def period_dir(out_dir: Path, kind: str, label: str) -> Path:
    """Where one period's counts of `kind` go."""
    return kind_dir(out_dir, kind) / f"period={label}"


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link a period's files (and its buckets') into the new output; copy where links fail."""
    for path in source.rglob("*"):
        if path.is_dir():
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, destination)
        except OSError:
            shutil.copy2(path, destination)
