"""Training: seed, prepare, fit with early stopping on validation MRR, checkpoint, test.

`train()` is the one training function: `kgrec train`, `kgrec run` and the Ray Train worker
(`gnn.ray_job`) all call it. Its output directory holds `model.pt` (best checkpoint: weights
and the arguments to rebuild the model), `ids.parquet` (the dense id map), `features.npy`
(node text features, when used) and `train.json` (config, inputs, per-epoch history, metrics).
"""

from __future__ import annotations

import hashlib
import logging
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, Field

from gnn.config import GnnSection
from gnn.data import Prepared, feature_tensor, prepare
from gnn.harness import Harness
from gnn.metrics import LinkMetrics
from gnn.model import TemporalLinkModel
from gnn.stream import MSG_DIM

log = logging.getLogger("kgrec")


class EpochReport(BaseModel):
    """One epoch: training loss, validation figures, wall time, throughput."""

    epoch: int
    loss: float
    val: LinkMetrics
    seconds: float
    events_per_s: float


class TrainResult(BaseModel):
    """What `train.json` holds."""

    model_name: str
    baseline: bool
    config: dict[str, Any]
    events_dir: str
    snapshot_dir: str
    snapshot_as_of: str
    created_at: datetime
    num_nodes: int
    rows: dict[str, int]
    epochs: list[EpochReport]
    best_epoch: int
    metrics: dict[str, LinkMetrics]
    model_hash: str
    train_events_per_s: float
    train_until: datetime = Field(description="Time of the first validation event: the weights were "
                                  "fit only on events before it.")
    warm_start: str | None = Field(default=None, description="The training output whose weights this "
                                   "one started from (an incremental run's fine-tuning); None: fresh.")
    nondeterministic_ops: list[str] = Field(
        default_factory=list, description="Torch's warnings for ops run without a deterministic kernel; "
        "empty: the same seed, data, device and thread count give the same model.")


def seed_everything(seed: int, threads: int | None) -> None:
    """Seed torch and numpy, ask torch for deterministic kernels; fix the thread count when asked.

    Negative samples come from the harness's own seeded generator. An op torch has no
    deterministic kernel for warns instead of failing (`warn_only`); `_fit_recording` collects
    those warnings into the training's account.
    """
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if threads:
        torch.set_num_threads(threads)


def _fit_recording(harness: Harness, prepared: Prepared, config: GnnSection, checkpoint: Path,
                   on_epoch: Callable[[EpochReport], None] | None) -> tuple[Fit, list[str]]:
    """`_fit`, and the ops torch ran without a deterministic kernel (each logged once)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = _fit(harness, prepared, config, checkpoint, on_epoch)
    reasons = sorted({str(w.message).splitlines()[0][:200] for w in caught
                      if "determinis" in str(w.message)})
    for reason in reasons:
        log.warning("training is not deterministic for this seed: %s", reason)
    return fit, reasons


def build_model(prepared: Prepared, config: GnnSection, device: torch.device) -> TemporalLinkModel:
    """A fresh model for the prepared data (baseline when it has no features)."""
    model = TemporalLinkModel(prepared.ids.num_nodes, MSG_DIM, config.dim, config.neighbors,
                              feature_tensor(prepared), prepared.ids.offset["item"], device)
    return model.to(device)


def make_harness(prepared: Prepared, config: GnnSection, device: torch.device) -> Harness:
    """Model + optimizer over the prepared stream, negatives drawn from the items."""
    first = prepared.ids.offset["item"]
    return Harness(build_model(prepared, config, device), prepared.stream,
                   (first, first + prepared.ids.count("item")), config.batch_size, config.lr, device,
                   config.seed)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


Fit = tuple[list[EpochReport], int, dict[str, LinkMetrics]]


def _fit(harness: Harness, prepared: Prepared, config: GnnSection, checkpoint: Path,
         on_epoch: Callable[[EpochReport], None] | None) -> Fit:
    """Epochs until `config.epochs` or `patience` epochs without a better validation MRR.

    An epoch that improves validation MRR is checkpointed and tested at once (the test events
    follow the validation events in the stream, so the state is already right): the returned
    figures are the best checkpoint's, with no second pass.
    """
    history: list[EpochReport] = []
    best, best_epoch, waited = -1.0, 0, 0
    best_metrics: dict[str, LinkMetrics] = {}
    train_events = int(prepared.stream.scored[: prepared.val_start].sum())
    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        loss = harness.train_epoch(prepared.val_start)
        seconds = time.perf_counter() - start
        val = harness.evaluate(prepared.val_start, prepared.test_start, config.eval_negatives)
        report = EpochReport(epoch=epoch, loss=round(loss, 5), val=val, seconds=round(seconds, 2),
                             events_per_s=round(train_events / seconds, 1))
        history.append(report)
        log.info("epoch %d: loss %.4f  val AP %.4f AUC %.4f MRR %.4f  (%.1f s, %.0f events/s)",
                 epoch, loss, val.ap, val.auc, val.mrr, seconds, report.events_per_s)
        if on_epoch:
            on_epoch(report)
        if val.mrr > best:
            best, best_epoch, waited = val.mrr, epoch, 0
            torch.save(harness.model.state_dict(), checkpoint)
            test = harness.evaluate(prepared.test_start, prepared.stream.num_events, config.eval_negatives)
            best_metrics = {"val": val, "test": test}
        else:
            waited += 1
            if waited >= config.patience:
                log.info("early stop: no better validation MRR for %d epoch(s)", waited)
                break
    return history, best_epoch, best_metrics


def train(config: GnnSection, events_dir: Path, snapshot_dir: Path, out_dir: Path, baseline: bool = False,
          on_epoch: Callable[[EpochReport], None] | None = None,
          warm_start: Path | None = None) -> TrainResult:
    """Train on events + snapshot into `out_dir` and return (and write) its account.

    With `warm_start` (an earlier training output) the learned weights start from its
    checkpoint, so an incremental run fine-tunes on its new events; memory and per-node state
    are rebuilt from the events given, over the new node set.

    Raises:
        ValueError: `warm_start`'s checkpoint does not fit this model (another dim, or baseline
            against knowledge features).
    """
    seed_everything(config.seed, config.threads)
    device = torch.device(config.device)
    prepared = prepare(config, events_dir, snapshot_dir, baseline)
    out_dir.mkdir(parents=True, exist_ok=True)
    prepared.ids.save(out_dir / "ids.parquet")
    if prepared.features is not None:
        np.save(out_dir / "features.npy", prepared.features)
    harness = make_harness(prepared, config, device)
    if warm_start is not None:
        try:
            harness.model.load_weights(torch.load(warm_start / "model.pt", map_location=device))
        except RuntimeError as e:  # a weight of another shape
            raise ValueError(f"checkpoint does not fit this model: {str(e).splitlines()[-1].strip()}") from e
        log.info("fine-tuning from %s", warm_start)
    checkpoint = out_dir / "model.pt"
    (history, best_epoch, metrics), nondeterministic = _fit_recording(harness, prepared, config, checkpoint,
                                                                      on_epoch)
    scored = prepared.stream.scored
    result = TrainResult(
        model_name="tgn-baseline" if baseline else f"tgn-kg-{config.knowledge}",
        baseline=baseline, config=config.model_dump(mode="json"), events_dir=str(events_dir),
        snapshot_dir=str(snapshot_dir), snapshot_as_of=prepared.snapshot.as_of,
        created_at=datetime.now(UTC), num_nodes=prepared.ids.num_nodes,
        rows={"users": prepared.ids.count("user"), "items": prepared.ids.count("item"),
              "concepts": prepared.ids.count("concept"), "events": int(scored.sum()),
              "knowledge_edges": int((~scored).sum()),
              "train_events": int(scored[: prepared.val_start].sum())},
        epochs=history, best_epoch=best_epoch, metrics=metrics, model_hash=file_sha256(checkpoint),
        train_events_per_s=round(float(np.mean([e.events_per_s for e in history])), 1),
        train_until=datetime.fromtimestamp(int(prepared.stream.t[prepared.val_start]), UTC),
        warm_start=str(warm_start) if warm_start is not None else None, nondeterministic_ops=nondeterministic,
    )
    (out_dir / "train.json").write_text(result.model_dump_json(indent=2))
    log.info("test AP %.4f AUC %.4f MRR %.4f (best epoch %d)", metrics["test"].ap, metrics["test"].auc,
             metrics["test"].mrr, best_epoch)
    return result


def load_result(model_dir: Path) -> TrainResult:
    """The `train.json` of a training output; InputDataError when there is none."""
    from kg.errors import InputDataError, reading

    path = model_dir / "train.json"
    if not path.exists():
        raise InputDataError(str(model_dir), "not a `kgrec train` output (train.json is missing)")
    with reading(path, "a `kgrec train` report", "train the model again with `kgrec train`"):
        return TrainResult.model_validate_json(path.read_text())
