"""Passes over the stream: train, evaluate, replay. Shared by training and export.

The stream must always be processed from its start and in order (memory and the neighbour
loader are stateful; the loader's edge ids index the stream). Each step scores the batch's
user->item events against the state *before* the batch, then lets the whole batch (events
and knowledge edges) update memory and neighbourhoods, as in PyG's TGN example.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import TemporalData

from gnn.metrics import LinkMetrics, link_metrics
from gnn.model import TemporalLinkModel

bce = torch.nn.functional.binary_cross_entropy_with_logits


class Harness:
    """One model, its optimizer and the stream it learns from."""

    def __init__(self, model: TemporalLinkModel, stream: TemporalData, items: tuple[int, int],
                 batch_size: int, lr: float, device: torch.device, seed: int) -> None:
        self.model = model
        self.stream = stream
        self.items = items  # [first item node, end) : where negatives are drawn from
        self.batch_size = batch_size
        self.device = device
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.generator = torch.Generator().manual_seed(seed)
        self.stream_t = stream.t.to(device)
        self.stream_msg = stream.msg.to(device)

    def _negatives(self, n: int, k: int) -> Tensor:
        return torch.randint(self.items[0], self.items[1], (n, k), generator=self.generator).to(self.device)

    def _batches(self, start: int, end: int) -> list[tuple[int, int]]:
        return [(i, min(i + self.batch_size, end)) for i in range(start, end, self.batch_size)]

    def _observe(self, lo: int, hi: int) -> None:
        s = self.stream
        self.model.observe(s.src[lo:hi].to(self.device), s.dst[lo:hi].to(self.device),
                           self.stream_t[lo:hi], self.stream_msg[lo:hi])

    def _scored(self, lo: int, hi: int) -> tuple[Tensor, Tensor]:
        mask = self.stream.scored[lo:hi]
        return self.stream.src[lo:hi][mask].to(self.device), self.stream.dst[lo:hi][mask].to(self.device)

    def train_epoch(self, end: int, on_batch: Callable[[int], None] | None = None) -> float:
        """One pass over stream[0:end] with BCE on one negative per event; mean loss."""
        self.model.train()
        self.model.reset_state()
        total, count = 0.0, 0
        for lo, hi in self._batches(0, end):
            src, dst = self._scored(lo, hi)
            if src.numel():
                self.optimizer.zero_grad()
                neg = self._negatives(src.numel(), 1)[:, 0]
                nodes = torch.unique(torch.cat([src, dst, neg]))
                z, assoc = self.model.embed(nodes, self.stream_t, self.stream_msg)
                pos_out = self.model.score(z, assoc, src, dst)
                neg_out = self.model.score(z, assoc, src, neg)
                loss = bce(pos_out, torch.ones_like(pos_out)) + bce(neg_out, torch.zeros_like(neg_out))
                self._observe(lo, hi)
                torch.autograd.backward(loss)
                self.optimizer.step()
                self.model.memory.detach()
                total += float(loss.detach()) * src.numel()
                count += src.numel()
            else:
                self._observe(lo, hi)
            if on_batch:
                on_batch(hi - lo)
        return total / max(count, 1)

    @torch.no_grad()
    def evaluate(self, start: int, end: int, negatives: int) -> LinkMetrics:
        """Score stream[start:end] (continuing from the current state), then observe it."""
        self.model.eval()
        pos_all, neg_all = [], []
        for lo, hi in self._batches(start, end):
            src, dst = self._scored(lo, hi)
            if src.numel():
                negs = self._negatives(src.numel(), negatives)
                nodes = torch.unique(torch.cat([src, dst, negs.flatten()]))
                z, assoc = self.model.embed(nodes, self.stream_t, self.stream_msg)
                pos_all.append(self.model.score(z, assoc, src, dst).cpu().numpy())
                neg_out = self.model.score(z, assoc, src.repeat_interleave(negatives), negs.flatten())
                neg_all.append(neg_out.view(-1, negatives).cpu().numpy())
            self._observe(lo, hi)
        if not pos_all:
            return link_metrics(np.zeros(0), np.zeros((0, negatives)))
        return link_metrics(np.concatenate(pos_all), np.concatenate(neg_all))

    @torch.no_grad()
    def replay(self, end: int) -> None:
        """From a fresh state, let stream[0:end] happen without scoring anything."""
        self.model.eval()
        self.model.reset_state()
        for lo, hi in self._batches(0, end):
            self._observe(lo, hi)

    @torch.no_grad()
    def embeddings(self, nodes: Tensor, chunk: int = 4096) -> Tensor:
        """Embeddings `[len(nodes), dim]` at the current state, computed in bounded chunks."""
        self.model.eval()
        self.model.memory.eval()
        out = []
        for i in range(0, nodes.numel(), chunk):
            part = nodes[i:i + chunk].to(self.device)
            z, assoc = self.model.embed(part, self.stream_t, self.stream_msg)
            out.append(z[assoc[part]].cpu())
        return torch.cat(out) if out else torch.zeros(0, self.model.link_pred.lin_src.in_features)
