"""Point-in-time embeddings for CTR samples: each sample sees only an export made before it.

A ranker in production reads the live cache, which holds the last version published before
the request. Training a ranker with one export taken at the end of its training window instead
hands every training sample an embedding that has already replayed the sample's own
interactions (the user vector of a one-basket guest *is* that basket): a shortcut that the
test period does not offer, which a ranker learns and then pays for on test (Online Retail,
DeepFM: test logloss 0.654 against 0.440 with ids only).

So the evaluation exports versions across the training window and one at the test split
(`export_times`), and each sample reads the latest version strictly before it (`assign`). A
sample older than every export reads none: version 0 is all zeros, as for an unseen id.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from serving.ctr.data import CtrData, Samples

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    return (moment.astimezone(UTC) - _EPOCH) // _TICK


def export_times(data: CtrData, count: int) -> list[datetime]:
    """`as_of` for `count` exports over the training samples and one at the test split, ascending.

    The training ones sit at quantiles of the training samples' times (the first just before
    the first sample). Each is one microsecond before its sample, because an export replays
    events *up to and including* its `as_of`, and a sample must not see its own events.
    """
    ts = np.sort(data.train.ts)
    starts = {int(ts[n * len(ts) // count]) for n in range(count)} if len(ts) else set()
    starts.add(_micros(data.cutoff))
    return [_EPOCH + (start - 1) * _TICK for start in sorted(starts)]


def assign(samples: Samples, as_of: list[datetime]) -> tuple[Samples, int]:
    """`samples` with `version` = 1 + the index (into ascending `as_of`) of the latest export before each.

    Version 0 is no export at all (a sample older than every export); the second value counts
    those samples.
    """
    moments = np.array([_micros(moment) for moment in as_of], np.int64)
    if len(moments) == 0 or (np.diff(moments) <= 0).any():
        raise ValueError("export times must be given, ascending and distinct")
    version = np.searchsorted(moments, samples.ts, side="left")
    return replace(samples, version=version.astype(np.int64)), int((version == 0).sum())
