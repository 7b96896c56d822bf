"""Stand-in embeddings for `kgrec eval ctr` until the GNN stage's export exists.

    python benchmarks/ctr_standin.py --dataset movielens --out .kgrec/standin
    kgrec eval ctr --dataset movielens --embeddings .kgrec/standin/movielens-standin

Writes one export (format kgrec.embeddings/1, `model.baseline: true`) built only from events
before the evaluation's test split, so nothing leaks:

- users/items: truncated SVD (64-d) of the time-decayed user x item matrix of training
  positives (weight exp(-age / half-life)): collaborative, time-aware, but no knowledge graph
  and no TGN. It is a stand-in for the kgrec model, not kgrec's model.
- item_text: a hashed bag of words of each item's text (4,096 buckets, tf-idf, L2-normed),
  randomly projected to 384-d: a stand-in for the MiniLM features the GNN export carries.
"""

from __future__ import annotations

import argparse
import re
import zlib
from pathlib import Path

import numpy as np

from pipelines.steps.ctr import load_dataset
from serving.ctr.config import CtrSection
from serving.ctr.data import CtrData
from serving.export import EmbeddingTable, ModelInfo, write_export

BUCKETS, TEXT_DIM, DIM, HALF_LIFE_DAYS = 4096, 384, 64, 90.0


def _svd(data: CtrData) -> tuple[np.ndarray, np.ndarray]:
    users = {u: n for n, u in enumerate(data.user_ids)}
    items = {i: n for n, i in enumerate(data.item_ids)}
    matrix = np.zeros((len(users), len(items)), np.float32)
    age_days = (data.cutoff - data.train_events["ts"]).dt.total_seconds().to_numpy() / 86_400
    weights = np.exp(-age_days * np.log(2) / HALF_LIFE_DAYS)
    for (user, item), weight in zip(data.train_events.select("user_id", "item_id").iter_rows(), weights,
                                    strict=True):
        if user in users and item in items:
            matrix[users[user], items[item]] += weight
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    scale = np.sqrt(s[:DIM])
    return (u[:, :DIM] * scale).astype(np.float32), (vt[:DIM].T * scale).astype(np.float32)


def _text(texts: list[str]) -> np.ndarray:
    counts = np.zeros((len(texts), BUCKETS), np.float32)
    for row, text in enumerate(texts):
        for token in re.findall(r"[a-z0-9]+", text.lower()):
            counts[row, zlib.crc32(token.encode()) % BUCKETS] += 1
    idf = np.log((1 + len(texts)) / (1 + (counts > 0).sum(0))) + 1
    tfidf = counts * idf
    tfidf /= np.linalg.norm(tfidf, axis=1, keepdims=True).clip(min=1e-9)
    projection = np.random.default_rng(0).normal(size=(BUCKETS, TEXT_DIM)).astype(np.float32)
    return (tfidf @ projection / np.sqrt(TEXT_DIM)).astype(np.float32)


def main() -> None:
    """Build the stand-in export for one dataset."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["movielens", "online-retail"], required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    data = load_dataset(CtrSection(), args.dataset)
    users, items = _svd(data)
    path = write_export(args.out, f"{args.dataset}-standin", EmbeddingTable(data.user_ids, users),
                        EmbeddingTable(data.item_ids, items),
                        model=ModelInfo(name="standin-timedecay-svd", hash="none", baseline=True),
                        as_of=data.cutoff, item_text=_text(data.item_text))
    print(path)


if __name__ == "__main__":
    main()
