"""Train one ranker on one seed and score it on the test split: AUC and logloss."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from serving.ctr.config import CtrSection
from serving.ctr.data import CtrData, Samples
from serving.ctr.models import MODELS, Tables


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC by the rank-sum formula, ties sharing their mean rank."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), np.float64)
    sorted_scores = scores[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    mean_rank = first + (counts + 1) / 2.0  # 1-based mean rank of each tie group
    ranks[order] = np.repeat(mean_rank, counts)
    positives = labels > 0.5
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both positive and negative labels in the test split")
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def logloss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean binary cross-entropy, probabilities clipped away from 0 and 1."""
    p = np.clip(probabilities, 1e-7, 1 - 1e-7)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


def _tensors(samples: Samples, rows: np.ndarray) -> tuple[torch.Tensor, ...]:
    return (torch.from_numpy(samples.user[rows]), torch.from_numpy(samples.item[rows]),
            torch.from_numpy(samples.history[rows]), torch.from_numpy(samples.version[rows]))


def train_and_score(model_name: str, data: CtrData, tables: Tables,
                    settings: CtrSection, seed: int) -> dict[str, float]:
    """Train `model_name` with `tables` (an arm) under `seed`; return test AUC and logloss."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = MODELS[model_name](len(data.user_ids) + 1, len(data.item_ids) + 1, data.item_category,
                               data.n_categories, settings.embedding_dim, tables, settings.pretrained_dropout)
    optimizer = torch.optim.Adam((p for p in model.parameters() if p.requires_grad),
                                 lr=settings.learning_rate)
    loss_fn = nn.BCEWithLogitsLoss()
    labels = torch.from_numpy(data.train.label)
    model.train()
    for _ in range(settings.epochs):
        order = rng.permutation(len(data.train.label))
        for lo in range(0, len(order), settings.batch_size):
            rows = order[lo:lo + settings.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(*_tensors(data.train, rows)), labels[rows])
            loss.backward()
            optimizer.step()
    model.eval()
    scores = []
    with torch.no_grad():
        for lo in range(0, len(data.test.label), 8192):
            rows = np.arange(lo, min(lo + 8192, len(data.test.label)))
            scores.append(torch.sigmoid(model(*_tensors(data.test, rows))).numpy())
    probabilities = np.concatenate(scores)
    return {"auc": auc(data.test.label, probabilities), "logloss": logloss(data.test.label, probabilities)}
