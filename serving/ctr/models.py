"""Compact DeepFM and DIN in torch, with optional frozen pretrained feature tables.

Each arm adds pretrained tables the way FuxiCTR's `PretrainedEmbedding` does with
`pretrain_usage: sum` and `freeze_emb: true`: a frozen table (loaded from the ranker
export, `serving.ranker_export`) passes through a trainable linear projection to the id
embedding size and is added to the id embedding of the same feature. Unseen ids (index 0)
get zeros. The ids-only arm has no tables; everything else is identical across arms.
kgrec's time-aware tables are versioned (`serving.ctr.versions`): a sample, and the items
of its history, read the rows of the export that was live when the sample happened.

Each frozen table is first divided by its mean row norm. Exports differ in scale (sentence
embeddings are unit vectors, TGN embeddings have norms of 3-5), and a freshly initialised
projection passes that scale on: in DeepFM it sets the strength of the FM interactions before
any training, which with large vectors made the model overconfident (test logloss 0.80 vs 0.69).
During training, dropout (`ctr.pretrained_dropout`) drops the projected pretrained part of a
feature (not its id embedding): without it DeepFM leaned on the kgrec vectors through its FM
term and lost AUC on Online Retail's test split (0.7387 against 0.7549 with ids only).

- DeepFM (Guo et al. 2017): fields user, item, category (when the data has categories) and
  the mean of the history; first-order terms + FM pairwise interactions + an MLP.
- DIN (Zhou et al. 2018): an attention unit scores each history item against the candidate
  ([q, k, q-k, q*k] -> MLP -> weight, no softmax, padding masked); the weighted sum, user,
  candidate and category feed an MLP.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

Tables = dict[str, list[np.ndarray]]
""""item" / "user" -> frozen float32 tables: `[vocab + 1, d]` (one for all samples) or
`[versions, vocab + 1, d]` (point in time: a sample reads its `version`'s rows); row 0 zeros."""


def _unit_scale(table: np.ndarray) -> np.ndarray:
    """`table` divided by its mean row norm; all-zero rows (unseen ids) do not count."""
    norms = np.linalg.norm(table, axis=-1)
    present = norms > 0
    return (table / norms[present].mean()).astype(np.float32) if present.any() else table


class FeatureEmbedding(nn.Module):
    """Id embedding plus projected frozen pretrained vectors (summed), for one id feature.

    The frozen tables are buffers; each forward projects a whole table once and then looks
    rows up, which costs far less than projecting every looked-up row (histories repeat items).
    A versioned table is stored flat, version after version, and read at `version * (vocab + 1) + id`.
    """

    def __init__(self, vocab: int, dim: int, pretrained: list[np.ndarray], dropout: float = 0.0) -> None:
        super().__init__()
        self.ids = nn.Embedding(vocab, dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        nn.init.normal_(self.ids.weight, std=1e-2)
        self.vocab = vocab
        self.tables = [f"pretrained_{n}" for n in range(len(pretrained))]
        self.versioned = [table.ndim == 3 for table in pretrained]
        for name, table in zip(self.tables, pretrained, strict=True):
            if table.shape[-2] != vocab:
                raise ValueError(f"a pretrained table has {table.shape[-2]} rows for a vocabulary of {vocab}")
            flat = _unit_scale(table).reshape(-1, table.shape[-1])
            self.register_buffer(name, torch.from_numpy(np.ascontiguousarray(flat)))
        self.proj = nn.ModuleList(nn.Linear(t.shape[-1], dim, bias=False) for t in pretrained)

    def forward(self, index: torch.Tensor, version: torch.Tensor) -> torch.Tensor:
        """`index` [batch, ...] int64 with `version` [batch] -> [batch, ..., dim]."""
        out: torch.Tensor = self.ids(index)
        if not self.tables:
            return out
        at_version = index + (version * self.vocab).view(-1, *([1] * (index.dim() - 1)))
        pretrained = [nn.functional.embedding(at_version if versioned else index, proj(getattr(self, name)))
                      for name, proj, versioned in zip(self.tables, self.proj, self.versioned, strict=True)]
        dropped: torch.Tensor = self.dropout(torch.stack(pretrained).sum(0))
        return out + dropped


def _mlp(sizes: list[int], dropout: float = 0.1) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-2], sizes[1:-1], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)]
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers)


class _Base(nn.Module):
    """Shared inputs: users, items (also used for history), item categories."""

    def __init__(self, n_users: int, n_items: int, item_category: np.ndarray, n_categories: int,
                 dim: int, tables: Tables, dropout: float = 0.0) -> None:
        super().__init__()
        self.user = FeatureEmbedding(n_users, dim, tables.get("user", []), dropout)
        self.item = FeatureEmbedding(n_items, dim, tables.get("item", []), dropout)
        self.item_category: torch.Tensor
        self.register_buffer("item_category", torch.from_numpy(item_category))
        self.category = nn.Embedding(n_categories, dim, padding_idx=0) if n_categories > 1 else None
        self.dim = dim

    def fields(self, user: torch.Tensor, item: torch.Tensor, version: torch.Tensor) -> list[torch.Tensor]:
        out = [self.user(user, version), self.item(item, version)]
        if self.category is not None:
            out.append(self.category(self.item_category[item]))
        return out


class DeepFM(_Base):
    """DeepFM over user, item, category and mean-of-history fields."""

    def __init__(self, n_users: int, n_items: int, item_category: np.ndarray, n_categories: int,
                 dim: int, tables: Tables, dropout: float = 0.0) -> None:
        super().__init__(n_users, n_items, item_category, n_categories, dim, tables, dropout)
        n_fields = 3 + (self.category is not None)
        self.linear_user = nn.Embedding(n_users, 1, padding_idx=0)
        self.linear_item = nn.Embedding(n_items, 1, padding_idx=0)
        self.bias = nn.Parameter(torch.zeros(1))
        self.dnn = _mlp([n_fields * dim, 128, 64, 1])

    def forward(self, user: torch.Tensor, item: torch.Tensor, history: torch.Tensor,
                version: torch.Tensor) -> torch.Tensor:
        """Logits [batch]."""
        mask = (history > 0).unsqueeze(-1).float()
        pooled = (self.item(history, version) * mask).sum(1) / mask.sum(1).clamp(min=1)
        emb = torch.stack([*self.fields(user, item, version), pooled], dim=1)  # [b, f, d]
        fm = 0.5 * (emb.sum(1).pow(2) - emb.pow(2).sum(1)).sum(1)
        first = self.linear_user(user).squeeze(-1) + self.linear_item(item).squeeze(-1) + self.bias
        logits: torch.Tensor = first + fm + self.dnn(emb.flatten(1)).squeeze(-1)
        return logits


class DIN(_Base):
    """Deep Interest Network: candidate-aware attention over the history."""

    def __init__(self, n_users: int, n_items: int, item_category: np.ndarray, n_categories: int,
                 dim: int, tables: Tables, dropout: float = 0.0) -> None:
        super().__init__(n_users, n_items, item_category, n_categories, dim, tables, dropout)
        n_fields = 3 + (self.category is not None)
        self.attention = _mlp([4 * dim, 36, 1], dropout=0.0)
        self.dnn = _mlp([n_fields * dim, 128, 64, 1])

    def forward(self, user: torch.Tensor, item: torch.Tensor, history: torch.Tensor,
                version: torch.Tensor) -> torch.Tensor:
        """Logits [batch]."""
        fields = self.fields(user, item, version)
        query = fields[1].unsqueeze(1).expand(-1, history.shape[1], -1)  # [b, L, d]
        keys = self.item(history, version)
        weight = self.attention(torch.cat([query, keys, query - keys, query * keys], -1))  # [b, L, 1]
        weight = weight * (history > 0).unsqueeze(-1).float()
        interest = (weight * keys).sum(1)
        logits: torch.Tensor = self.dnn(torch.cat([*fields, interest], dim=1)).squeeze(-1)
        return logits


MODELS: dict[str, type[_Base]] = {"DeepFM": DeepFM, "DIN": DIN}
