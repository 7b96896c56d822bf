"""Everything the harness trains on, built once from an events directory and a snapshot."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import TemporalData

from gnn.config import GnnSection
from gnn.features import node_features, node_texts
from gnn.ids import IdMap
from gnn.stream import Snapshot, build_ids, build_stream, read_events, read_snapshot, split_points
from gnn.text import TextEncoder

log = logging.getLogger("kgrec")


@dataclass
class Prepared:
    """The stream, its split points, the id map and the item/concept text features."""

    stream: TemporalData
    ids: IdMap
    features: np.ndarray | None  # float32 [items + concepts, 384] or None (no text features)
    val_start: int
    test_start: int
    snapshot: Snapshot


def uses_messages(config: GnnSection, baseline: bool) -> bool:
    """Whether knowledge relations enter the stream as edges."""
    return not baseline and config.knowledge in ("messages", "both")


def uses_features(config: GnnSection, baseline: bool) -> bool:
    """Whether nodes carry text features at all."""
    return not baseline and config.text_features


def prepare(config: GnnSection, events_dir: Path, snapshot_dir: Path, baseline: bool,
            ids: IdMap | None = None, as_of: datetime | None = None,
            features: np.ndarray | None = None) -> Prepared:
    """Read, encode and split. With `ids` given (export), unknown ids are dropped, not errors.

    Raises:
        InputDataError: a missing or empty input, named.
        UnknownIdError: never with `ids=None` (the map is built from the inputs).
    """
    snapshot = read_snapshot(snapshot_dir)
    events = read_events(events_dir, as_of)
    strict = ids is None
    if strict and config.max_events:
        events = events.tail(config.max_events)
    ids = ids or build_ids(events, snapshot)
    stream, dropped = build_stream(events, snapshot, ids, uses_messages(config, baseline), strict)
    if dropped:
        log.warning("%d event(s) name users or items the model does not know; skipped", dropped)
    if features is None and uses_features(config, baseline):
        with_knowledge = config.knowledge in ("features", "both")
        texts = node_texts(snapshot, ids, with_knowledge, config.knowledge_per_item)
        features = node_features(texts, TextEncoder(config.text_cache_dir))
    if as_of is not None:  # knowledge first seen after `as_of` is not known yet at `as_of`
        stream = stream[stream.t <= int(as_of.timestamp())]
    val_start, test_start = split_points(stream, config.val_ratio, config.test_ratio) if strict else (0, 0)
    return Prepared(stream, ids, features, val_start, test_start, snapshot)


def feature_tensor(prepared: Prepared) -> torch.Tensor | None:
    """The features as a tensor for the model, or None for the baseline."""
    return None if prepared.features is None else torch.from_numpy(prepared.features)
