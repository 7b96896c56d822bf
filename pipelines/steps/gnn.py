"""The GNN steps of `kgrec run`, `kgrec train` and `kgrec embed export`: train and export as marked stages.

Torch and PyG are imported here only inside the steps, so the CLI stays light.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gnn.config import GnnSection
from kg.errors import ConfigError, StageOutputError
from kg.snapshot import require_snapshot
from pipelines.config import Settings
from pipelines.manifest import RunDirectory
from pipelines.outputs import MARKER, begin_stage, mark_complete, require_complete
from pipelines.report import StageReport, Timer


def gnn_steps(settings: Settings, run: RunDirectory, warm_start: Path | None = None) -> None:
    """Train the temporal model on the run's events and snapshot, then export embeddings now.

    `warm_start`: the previous run's model, fine-tuned on this run's (new) events.
    """
    with run.stage("train"):
        run.record(train_step(settings.gnn, run.stage_dir("ingest"), run.stage_dir("snapshot"),
                              run.stage_dir("model"), warm_start=warm_start))
    with run.stage("embed_export"):
        run.record(export_step(settings.gnn, run.stage_dir("model"), datetime.now(UTC),
                               settings.gnn.embeddings_dir or run.stage_dir("embeddings")))


def train_step(settings: GnnSection, events_dir: Path, snapshot_dir: Path, out_dir: Path,
               baseline: bool = False, warm_start: Path | None = None) -> StageReport:
    """`kgrec train`: fit the model (from `warm_start`'s weights when given); marked complete at the end.

    Raises:
        StageOutputError: `warm_start` is not a finished training output.
        ConfigError: its checkpoint does not fit this model.
    """
    from gnn.train import train

    timer = Timer()
    if warm_start is not None:
        require_complete(warm_start, "train", "--warm-start")
    begin_stage(out_dir, "train")
    try:
        result = train(settings, events_dir, snapshot_dir, out_dir, baseline, warm_start=warm_start)
    except ValueError as e:
        if warm_start is None:
            raise
        raise ConfigError(f"--warm-start {warm_start}: {e}") from e
    mark_complete(out_dir, {"model": result.model_name, "hash": result.model_hash})
    return _train_report(out_dir, timer)


def _train_report(out_dir: Path, timer: Timer) -> StageReport:
    """The stage report of a finished training output, from its `train.json`."""
    from gnn.train import load_result

    result = load_result(out_dir)
    test = result.metrics["test"]
    return StageReport(
        name="train", rows=result.rows, wall_s=timer.elapsed(),
        outputs={"dir": str(out_dir)},
        details={"model": result.model_name, "best_epoch": result.best_epoch, "epochs": len(result.epochs),
                 "test_ap": round(test.ap, 4), "test_auc": round(test.auc, 4), "test_mrr": round(test.mrr, 4),
                 "train_events_per_s": result.train_events_per_s},
    )


def export_step(settings: GnnSection, model_dir: Path, as_of: datetime, out_root: Path,
                version: str | None = None, events_dir: Path | None = None,
                snapshot_dir: Path | None = None) -> StageReport:
    """`kgrec embed export`: a new embedding version under `out_root`; never replaces a published one.

    A version directory without the completion marker is a crashed export and is replaced.
    `events_dir` / `snapshot_dir` default to the model's training inputs.

    Raises:
        StageOutputError: the version is already published, or `model_dir` is not a finished
            training output.
    """
    timer = Timer()
    require_complete(model_dir, "train", "--model")  # inputs before torch, which takes seconds to import
    if events_dir is not None:
        require_complete(events_dir, "ingest", "--events")
    if snapshot_dir is not None:
        require_snapshot(snapshot_dir)
    import torch

    from gnn.export import default_version, write_embeddings

    version_dir = out_root / (version or default_version())
    if (version_dir / MARKER).exists():
        raise StageOutputError(str(version_dir), "this embedding version is already published; "
                               "it is never overwritten (pass another --version)")
    begin_stage(version_dir, "embed export")
    manifest = write_embeddings(model_dir, as_of, version_dir, torch.device(settings.device),
                                events_dir, snapshot_dir)
    mark_complete(version_dir, {"format": manifest.format, "version": manifest.version})
    return StageReport(name="embed_export", rows={str(k): v for k, v in manifest.rows.items()},
                       wall_s=timer.elapsed(), outputs={"dir": str(version_dir)},
                       details={"version": manifest.version, "dim": manifest.dim,
                                "model": manifest.model.name,
                                "users_unseen_in_training": manifest.unseen_in_training.get("users", 0),
                                "items_unseen_in_training": manifest.unseen_in_training.get("items", 0)})


def train_on_ray(settings: GnnSection, events_dir: Path, snapshot_dir: Path, out_dir: Path,
                 baseline: bool = False, warm_start: Path | None = None) -> StageReport:
    """`train_step` inside one Ray Train `TorchTrainer` worker, on the cluster Ray is connected to.

    The worker writes to `out_dir`, which must be on a filesystem the worker sees (a shared
    mount on a cluster); the report is read back from there. GPU workers are asked for when
    `settings.device` is 'cuda'. A failing worker fails `fit()` with the worker's error.
    """
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    def worker(args: dict[str, str | bool]) -> None:
        start = str(args["warm_start"])
        train_step(GnnSection.model_validate_json(str(args["settings"])), Path(str(args["events"])),
                   Path(str(args["snapshot"])), Path(str(args["out"])), bool(args["baseline"]),
                   Path(start) if start else None)

    timer = Timer()
    trainer = TorchTrainer(
        worker,
        train_loop_config={"settings": settings.model_dump_json(), "events": str(events_dir.resolve()),
                           "snapshot": str(snapshot_dir.resolve()), "out": str(out_dir.resolve()),
                           "baseline": baseline,
                           "warm_start": str(warm_start.resolve()) if warm_start else ""},
        scaling_config=ScalingConfig(num_workers=1, use_gpu=settings.device == "cuda"),
        run_config=RunConfig(name=f"kgrec-train-{out_dir.name}",
                             storage_path=str((out_dir / "_ray").resolve())),
    )
    trainer.fit()
    require_complete(out_dir, "train")
    return _train_report(out_dir, timer)
