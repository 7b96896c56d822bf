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
from gnn.features import extend_features, node_features, node_texts
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


@dataclass
class TrainedNodes:
    """What a trained model knows of nodes: its id map and the text features it trained with."""

    ids: IdMap
    features: np.ndarray | None


def prepare(config: GnnSection, events_dir: Path, snapshot_dir: Path, baseline: bool,
            trained: TrainedNodes | None = None, as_of: datetime | None = None) -> Prepared:
    """Read, encode and split for training; with `trained` (export), read everything up to `as_of`.

    An export's id map is the trained map plus every user and item seen since (TGN is
    inductive: a new node's embedding comes from the memory its events build during the
    replay and, for items, its text feature, through the trained weights).

    Raises:
        InputDataError: a missing or empty input, named.
    """
    snapshot = read_snapshot(snapshot_dir)
    events = read_events(events_dir, as_of)
    if trained is None and config.max_events:
        events = events.tail(config.max_events)
    ids = build_ids(events, snapshot)
    if trained is not None:
        ids = ids.union(trained.ids)
    stream = build_stream(events, snapshot, ids, uses_messages(config, baseline))
    features = None
    # The architecture is fixed at training: an export has features exactly when the model does.
    if uses_features(config, baseline) and (trained is None or trained.features is not None):
        with_knowledge = config.knowledge in ("features", "both")
        texts = node_texts(snapshot, ids, with_knowledge, config.knowledge_per_item)
        encoder = TextEncoder(config.text_cache_dir)
        if trained is not None and trained.features is not None:
            features = extend_features(trained.ids, trained.features, ids, texts, encoder)
        elif any(texts):
            features = node_features(texts, encoder)
        else:  # all-zero features would only add a learned constant to every item
            log.warning("no item or concept has text (titles, knowledge); training without text features")
    if as_of is not None:  # knowledge first seen after `as_of` is not known yet at `as_of`
        stream = stream[stream.t <= int(as_of.timestamp())]
    val_start, test_start = (0, 0) if trained else split_points(stream, config.val_ratio, config.test_ratio)
    return Prepared(stream, ids, features, val_start, test_start, snapshot)


def feature_tensor(prepared: Prepared) -> torch.Tensor | None:
    """The features as a tensor for the model, or None for the baseline."""
    return None if prepared.features is None else torch.from_numpy(prepared.features)
