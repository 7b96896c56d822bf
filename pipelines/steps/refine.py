"""The refine steps: a critic trained from labels on the features of the labeled pairs.

The only refine code that reaches gnn/: it hands `pipelines.refine.features` a text similarity
made from all-MiniLM-L6-v2 (`gnn.text.TextEncoder`, the same cached encoder the GNN uses).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.config import Settings
from pipelines.outputs import require_complete
from pipelines.refine.critic import Critic, save_critic, train_critic
from pipelines.refine.features import FEATURE_VERSION, FEATURES, Similarity, pair_features
from pipelines.refine.labels import read_labels
from pipelines.refine.titles import TitleModel

log = logging.getLogger("kgrec")


def title_similarity(cache_dir: Path) -> Similarity:
    """Row-wise cosine of two lists of texts under all-MiniLM-L6-v2 (embeddings cached in `cache_dir`)."""
    from gnn.text import TextEncoder

    encoder = TextEncoder(cache_dir)

    def similarity(left: list[str], right: list[str]) -> np.ndarray:
        vectors = encoder.encode([*left, *right])  # unit vectors
        cosine: np.ndarray = (vectors[: len(left)] * vectors[len(left):]).sum(axis=1).astype(np.float64)
        return cosine

    return similarity


def train_critic_step(settings: Settings, labels: list[Path], ingest_dir: Path, candidates_dir: Path,
                      extract_dir: Path | None) -> tuple[Critic, Path]:
    """Read the labels, featurize the labeled pairs against the catalog, train and save a critic.

    Raises:
        InputDataError: a labels file is refused (see `pipelines.refine.labels`).
        StageOutputError: an input directory is not a finished stage output.
    """
    require_complete(ingest_dir, "ingest")
    require_complete(candidates_dir, "candidates")
    items = pl.read_parquet(ingest_dir / "items")
    label_set = read_labels(labels, items["item_id"].to_list())
    if label_set.unknown_ids:
        log.warning("refine: %d labeled pair(s) name items not in %s/items and were left out",
                    label_set.unknown_ids, ingest_dir)
    answers = None
    if extract_dir is not None:
        require_complete(extract_dir, "extract")
        answers = pl.read_parquet(extract_dir / "answers")
    features = pair_features(label_set.pairs(), items, pl.read_parquet(candidates_dir / "pairs"), answers,
                             TitleModel.fit(items["title"].to_list()),
                             title_similarity(settings.gnn.text_cache_dir))
    section = settings.refine
    critic = train_critic(features, label_set, FEATURES, FEATURE_VERSION, min_labels=section.min_labels,
                          folds=section.folds, threshold=section.threshold, sources=[str(p) for p in labels])
    return critic, save_critic(critic, section.critic_dir)
