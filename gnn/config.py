"""Settings of the GNN stage: the `gnn:` section of kgrec's configuration.

Kept in `gnn/` (pydantic only, no torch) so the training code and Ray workers validate the
same object the CLI builds; `pipelines.config.Settings` includes it as `gnn`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from kg.config import Section

Knowledge = Literal["none", "features", "messages", "both"]


class GnnSection(Section):
    """Temporal-model training and embedding export (`kgrec train`, `kgrec embed export`)."""

    knowledge: Knowledge = Field(
        default="both",
        description="How the snapshot's knowledge reaches the model: 'features' (related items and "
        "concepts written into each item's text feature), 'messages' (relations as time-stamped "
        "edges in the stream), 'both', or 'none'. See docs/embeddings.md for the measurement.",
    )
    text_features: bool = Field(
        default=True, description="Sentence embeddings of item/concept text as node features."
    )
    knowledge_per_item: int = Field(
        default=8, ge=1, description="Most confident relations per item written into its text."
    )
    dim: int = Field(default=100, ge=2, description="Memory, time-encoding and embedding width "
                     "(PyG's TGN example: 100). Even: the attention layer has 2 heads.")
    neighbors: int = Field(default=10, ge=1, description="Most recent neighbours attended to.")
    batch_size: int = Field(default=500, ge=1, description="Stream edges per step (PyG's example: "
                            "200). Larger is faster but leaves more same-batch events unseen by memory.")
    lr: float = Field(default=1e-4, gt=0, description="Adam learning rate (PyG's example: 1e-4).")
    epochs: int = Field(default=1, ge=1, description="Passes over the training events at most.")
    patience: int = Field(default=3, ge=1, description="Epochs without a better validation MRR "
                          "before training stops early.")
    max_events: int | None = Field(
        default=30_000, ge=100,
        description="Train on the latest N events only (null: all). Bounds training time: CPU "
        "TGN training runs at hundreds of events/s on 2 cores. Export still replays every event "
        "and embeds every user and item.")
    val_ratio: float = Field(default=0.15, gt=0, lt=0.5, description="Share of events (by time) "
                             "for validation.")
    test_ratio: float = Field(default=0.15, gt=0, lt=0.5, description="Latest share of events for test.")
    eval_negatives: int = Field(default=49, ge=1, description="Sampled negative items per event "
                                "for MRR (TGB-style); AP/AUC use the first.")
    seed: int = Field(default=0, description="Same seed, same data, same device: same model.")
    device: Literal["cpu", "cuda"] = Field(default="cpu", description="Where training runs.")
    threads: int | None = Field(default=None, ge=1, description="torch CPU threads; unset: torch's default.")
    text_cache_dir: Path = Field(default=Path(".kgrec/text_cache"),
                                 description="Sentence embeddings cached by content hash.")
    embeddings_dir: Path | None = Field(default=None, description="`kgrec embed export` default "
                                        "output root; `kgrec run` writes into the run directory.")
