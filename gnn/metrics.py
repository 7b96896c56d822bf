"""Link-prediction metrics: AP and AUC on one negative per positive, MRR against many (TGB-style).

Plain numpy (no scikit-learn): ranks are computed with ties averaged, so a model that scores
everything alike gets AUC 0.5 and MRR of a random ranking, never a lucky 1.0.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel


class LinkMetrics(BaseModel):
    """Figures of one split."""

    ap: float
    auc: float
    mrr: float
    events: int


def average_precision(pos: np.ndarray, neg: np.ndarray) -> float:
    """AP of positives among positives + negatives (ties broken pessimistically)."""
    scores = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    order = np.lexsort((labels, -scores))  # by score desc, negatives first on ties
    hits = labels[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / max(hits.sum(), 1))


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC AUC as P(pos > neg) + P(pos == neg) / 2, by ranking (n log n)."""
    scores = np.concatenate([pos, neg])
    order = scores.argsort(kind="stable")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0  # 1-based average rank of each tie group
    ranks[order] = np.repeat(average, counts)
    n_pos, n_neg = len(pos), len(neg)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / max(n_pos * n_neg, 1))


def reciprocal_ranks(pos: np.ndarray, negs: np.ndarray) -> np.ndarray:
    """1 / rank of each positive among its own row of negatives `[n, k]`; ties count half."""
    better = (negs > pos[:, None]).sum(1)
    tied = (negs == pos[:, None]).sum(1)
    return np.asarray(1.0 / (1.0 + better + tied / 2.0))


def link_metrics(pos: np.ndarray, negs: np.ndarray) -> LinkMetrics:
    """AP/AUC with the first negative of each row, MRR with all of them."""
    if len(pos) == 0:
        return LinkMetrics(ap=0.0, auc=0.0, mrr=0.0, events=0)
    return LinkMetrics(ap=average_precision(pos, negs[:, 0]), auc=auc(pos, negs[:, 0]),
                       mrr=float(reciprocal_ranks(pos, negs).mean()), events=len(pos))
