"""The temporal link model: PyG's TGN (memory + attention embedding) with fused node features.

With `features=None` this is exactly PyG's `examples/tgn.py` configuration (the baseline):
`TGNMemory` with `IdentityMessage` and `LastAggregator`, one `TransformerConv` layer (2 heads)
over `LastNeighborLoader` neighbours with time-encoded edge attributes, and an MLP link
predictor. With features, each node's memory is summed with a learned projection of its text
feature (items and concepts; users have none) before the attention layer.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import Linear
from torch_geometric.nn import TGNMemory, TransformerConv
from torch_geometric.nn.models.tgn import IdentityMessage, LastAggregator, LastNeighborLoader, TimeEncoder

# State sized by the number of nodes, not learned: what `load_weights` leaves to the caller.
PER_NODE_STATE = frozenset({"features", "memory.memory", "memory.last_update", "memory._assoc"})


class GraphAttentionEmbedding(torch.nn.Module):
    """One TransformerConv over the sampled temporal neighbourhood (as in PyG's example)."""

    def __init__(self, in_channels: int, out_channels: int, msg_dim: int, time_enc: TimeEncoder) -> None:
        super().__init__()
        self.time_enc = time_enc
        edge_dim = msg_dim + time_enc.out_channels
        self.conv = TransformerConv(in_channels, out_channels // 2, heads=2, dropout=0.1, edge_dim=edge_dim)

    def forward(self, x: Tensor, last_update: Tensor, edge_index: Tensor, t: Tensor, msg: Tensor) -> Tensor:
        """Embeddings `[len(x), out_channels]`; edges carry (time since update, message)."""
        rel_t = last_update[edge_index[0]] - t
        edge_attr = torch.cat([self.time_enc(rel_t.to(x.dtype)), msg], dim=-1)
        out: Tensor = self.conv(x, edge_index, edge_attr)
        return out


class LinkPredictor(torch.nn.Module):
    """Score of an edge (src, dst): a logit."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.lin_src = Linear(channels, channels)
        self.lin_dst = Linear(channels, channels)
        self.lin_final = Linear(channels, 1)

    def forward(self, z_src: Tensor, z_dst: Tensor) -> Tensor:
        """Logits `[n]` for n pairs of embeddings."""
        out: Tensor = self.lin_final((self.lin_src(z_src) + self.lin_dst(z_dst)).relu())
        return out.squeeze(-1)


class TemporalLinkModel(torch.nn.Module):
    """Memory, neighbour loader, attention embedding and link predictor in one module.

    Args:
        num_nodes: size of the dense id space (users + items + concepts).
        msg_dim: width of edge messages.
        dim: memory, time-encoding and embedding width (100 in PyG's example).
        neighbors: neighbours kept per node by the `LastNeighborLoader` (10 in the example).
        features: optional float32 `[num_feature_nodes, f]` text features of nodes
            `feature_offset ..`; `None` gives the baseline.
        feature_offset: node index of the first feature row (the first item).
        device: where the neighbour loader keeps its tensors (it is not a Module, so
            `.to()` does not move it); move the module itself there too.
    """

    features: Tensor
    assoc: Tensor
    project: Linear | None

    def __init__(self, num_nodes: int, msg_dim: int, dim: int, neighbors: int,
                 features: Tensor | None = None, feature_offset: int = 0,
                 device: torch.device | None = None) -> None:
        super().__init__()
        self.memory = TGNMemory(num_nodes, msg_dim, dim, dim,
                                message_module=IdentityMessage(msg_dim, dim, dim),
                                aggregator_module=LastAggregator())
        self.gnn = GraphAttentionEmbedding(dim, dim, msg_dim, self.memory.time_enc)
        self.link_pred = LinkPredictor(dim)
        self.neighbors = LastNeighborLoader(num_nodes, size=neighbors, device=device)
        self.feature_offset = feature_offset
        self.project = Linear(features.size(1), dim) if features is not None else None
        self.register_buffer("features", features if features is not None else torch.zeros(0, 1))
        self.register_buffer("assoc", torch.empty(num_nodes, dtype=torch.long), persistent=False)

    def load_weights(self, state: dict[str, Tensor]) -> None:
        """Load a checkpoint's learned weights into a model over a different node set.

        The per-node tensors (memory, last update, text features) are sized by the node count
        and are rebuilt by the caller (memory by a replay, features from the snapshot); every
        learned weight must match.

        Raises:
            ValueError: the checkpoint lacks a learned weight or has one this model does not.
        """
        learned = {k: v for k, v in state.items() if k not in PER_NODE_STATE}
        missing, unexpected = self.load_state_dict(learned, strict=False)
        missing = [k for k in missing if k not in PER_NODE_STATE]
        if missing or unexpected:
            raise ValueError(f"checkpoint does not fit this model: missing {missing}, "
                             f"unexpected {unexpected}")

    def reset_state(self) -> None:
        """Forget memory and neighbours: the start of a pass over the stream."""
        self.memory.reset_state()
        self.neighbors.reset_state()

    def _fuse(self, z: Tensor, n_id: Tensor) -> Tensor:
        if self.project is None:
            return z
        row = n_id - self.feature_offset
        has = (row >= 0) & (row < self.features.size(0))
        projected: Tensor = self.project(self.features[row.clamp(0, self.features.size(0) - 1)])
        return z + projected * has.unsqueeze(-1).to(z.dtype)

    def embed(self, nodes: Tensor, stream_t: Tensor, stream_msg: Tensor) -> tuple[Tensor, Tensor]:
        """(embeddings of `nodes` and their neighbours, node -> row lookup) at the current state.

        `stream_t` / `stream_msg` are the whole stream's, indexed by the loader's edge ids,
        which count edges in insertion order: the stream must be replayed from its start.
        """
        n_id, edge_index, e_id = self.neighbors(nodes)
        self.assoc[n_id] = torch.arange(n_id.size(0), device=n_id.device)
        z, last_update = self.memory(n_id)
        z = self.gnn(self._fuse(z, n_id), last_update, edge_index, stream_t[e_id].to(z.device),
                     stream_msg[e_id].to(z.device))
        return z, self.assoc

    def score(self, z: Tensor, assoc: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        """Logits of (src, dst) pairs from `embed`'s output."""
        out: Tensor = self.link_pred(z[assoc[src]], z[assoc[dst]])
        return out

    def observe(self, src: Tensor, dst: Tensor, t: Tensor, msg: Tensor) -> None:
        """Let edges happen: update memory and neighbourhoods (after they were scored)."""
        self.memory.update_state(src, dst, t, msg)
        self.neighbors.insert(src, dst)
