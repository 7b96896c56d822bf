"""`kgrec eval ctr`: does a ranker gain from kgrec's embeddings? Same data, splits and seeds per arm.

Arms (cumulative, so each row adds one thing): `ids` (user, item, category, history ids),
`+text` (plus the item text features, `item_text.npy`, of the latest export), `+kgrec` (plus
the exports' item and user embeddings, point in time). Models: DeepFM and DIN. Every
(model, arm) trains once per seed; the table gives test AUC and logloss as mean ± standard
deviation over seeds, and each arm's AUC lift over `ids` in percent. The embeddings reach the
rankers through the FuxiCTR files (`serving.ranker_export`), the format documented for ranking
teams, one directory per export version.

Point in time (`serving.ctr.versions`): each sample reads the latest export made before it, as
a ranker reading the live cache would. `export_versions` makes them from a trained model:
`ctr.embedding_versions` across the training window and one at the test split. A sample older
than every export gets no kgrec vectors (zeros, like an unseen id); the report counts those
samples (`train_samples_without_embeddings`, `test_samples_without_embeddings`).
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kg.errors import ConfigError, InputDataError, NoEventsYet, StageOutputError
from pipelines.config import CtrSection
from pipelines.outputs import MARKER, begin_stage, mark_complete, require_complete
from pipelines.report import StageReport, Timer
from serving.ctr.data import CtrData, Dataset
from serving.ctr.models import Tables

if TYPE_CHECKING:
    from gnn.config import GnnSection

log = logging.getLogger("kgrec")
MODELS = ("DeepFM", "DIN")


def load_dataset(settings: CtrSection, dataset: Dataset, ingest_dir: Path | None = None) -> CtrData:
    """The dataset's samples and split: the configured paths, or `ingest_dir` for `events`."""
    from serving.ctr.data import load_events, load_movielens, load_online_retail

    if dataset == "movielens":
        return load_movielens(settings.movielens_dir, settings)
    if dataset == "online-retail":
        return load_online_retail(settings.online_retail_path, settings)
    if ingest_dir is None:
        raise ConfigError("the events dataset needs an ingest output directory (--ingest)")
    require_complete(ingest_dir, "ingest")
    return load_events(ingest_dir, settings)


def export_versions(gnn: GnnSection, model_dir: Path, data: CtrData, count: int, out_root: Path,
                    events_dir: Path | None = None, snapshot_dir: Path | None = None) -> list[Path]:
    """Point-in-time exports of `model_dir` for `data` under `out_root`: `count` + 1 version directories.

    Finished versions from an earlier call are kept (a re-run only makes what is missing); a
    time before the first event makes no version (the samples before it get none).
    `events_dir` / `snapshot_dir` default to the model's training inputs.

    Raises:
        StageOutputError: a finished version under `out_root` was exported at another time.
    """
    from pipelines.gnn_steps import export_step
    from serving.ctr.versions import export_times
    from serving.export import read_manifest

    times = export_times(data, count)
    paths = []
    for n, as_of in enumerate(times):
        path = out_root / f"{n:02d}-{as_of:%Y%m%dT%H%M%S}"
        if not (path / MARKER).exists():
            try:
                export_step(gnn, model_dir, as_of, out_root, path.name, events_dir, snapshot_dir)
            except NoEventsYet:
                shutil.rmtree(path)
                log.info("ctr: no events by %s, no embeddings yet (%d of %d)", as_of, n + 1, len(times))
                continue
        elif (made := read_manifest(path).as_of) != as_of:
            raise StageOutputError(str(path), f"exported as of {made}, not {as_of}; remove it or "
                                   "choose another directory")
        log.info("ctr: embeddings as of %s (%d of %d)", as_of, n + 1, len(times))
        paths.append(path)
    return paths


def _arms(data: CtrData, files: list[dict[str, Path]]) -> dict[str, Tables]:
    """Arm -> tables; `files` are the versions' FuxiCTR files, oldest first."""
    from serving.ranker_export import aligned

    arms: dict[str, Tables] = {"ids": {}}
    text = [aligned(files[-1]["item_text"], data.item_ids)] if "item_text" in files[-1] else []
    if text:
        arms["+text"] = {"item": text}
    arms["+kgrec"] = {"item": [*text, _versioned([aligned(f["item_id"], data.item_ids) for f in files])],
                      "user": [_versioned([aligned(f["user_id"], data.user_ids) for f in files])]}
    return arms


def _versioned(tables: list[np.ndarray]) -> np.ndarray:
    """`[versions + 1, rows, d]`: version 0 (before every export) all zeros, then `tables`."""
    return np.stack([np.zeros_like(tables[0]), *tables])


def _table(results: dict[str, dict[str, list[dict[str, float]]]]) -> str:
    lines = ["| model | arm | AUC (mean ± sd) | logloss (mean ± sd) | AUC lift vs ids |",
             "| --- | --- | --- | --- | --- |"]
    for model, arms in results.items():
        base = float(np.mean([r["auc"] for r in arms["ids"]]))
        for arm, runs in arms.items():
            aucs, losses = [r["auc"] for r in runs], [r["logloss"] for r in runs]
            lift = (np.mean(aucs) - base) / base * 100
            lines.append(f"| {model} | {arm} | {np.mean(aucs):.4f} ± {np.std(aucs):.4f} | "
                         f"{np.mean(losses):.4f} ± {np.std(losses):.4f} | "
                         f"{'—' if arm == 'ids' else f'{lift:+.2f}%'} |")
    return "\n".join(lines)


def ctr_step(settings: CtrSection, data: CtrData, embeddings: list[Path],
             out_dir: Path) -> tuple[StageReport, str]:
    """Run every (model, arm, seed) on `data` and write `results.json`, `report.md`, the FuxiCTR files.

    `embeddings` are export version directories (any order; one is enough, see the module).
    Returns the stage report (for the run manifest) and the markdown table (for the run report).

    Raises:
        InputDataError: no exports, or two of them with the same `as_of`.
    """
    from serving.ctr.train import train_and_score
    from serving.ctr.versions import assign
    from serving.export import read_export
    from serving.ranker_export import write_fuxictr

    timer = Timer()
    exports = sorted((read_export(path) for path in embeddings), key=lambda e: e.manifest.as_of)
    times = [export.manifest.as_of for export in exports]
    names = {export.manifest.version for export in exports}
    if not exports or len(set(times)) < len(times) or len(names) < len(times):
        raise InputDataError(", ".join(map(str, embeddings)) or "--embeddings", "the CTR step needs "
                             "one or more exports with distinct as_of times and version names")
    begin_stage(out_dir)
    train, train_without = assign(data.train, times)
    test, test_without = assign(data.test, times)
    if train_without or test_without:
        log.warning("ctr: %d training and %d test samples predate every export (the first is as of %s) "
                    "and get no kgrec vectors", train_without, test_without, times[0])
    data = replace(data, train=train, test=test)
    arms = _arms(data, [write_fuxictr(e, out_dir / "fuxictr" / e.manifest.version) for e in exports])
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    for model in MODELS:
        for arm, tables in arms.items():
            runs = [train_and_score(model, data, tables, settings, seed) for seed in settings.seeds]
            results.setdefault(model, {})[arm] = runs
            log.info("ctr %s %s %s: AUC %s", data.name, model, arm, [round(r["auc"], 4) for r in runs])
    table = _table(results)
    model_name = exports[-1].manifest.model.name
    heading = (f"CTR on {data.name} (test from {data.cutoff:%Y-%m-%d}; {len(exports)} embedding "
               f"version(s) {times[0]:%Y-%m-%d} to {times[-1]:%Y-%m-%d}, point in time; "
               f"model {model_name}; seeds {settings.seeds})")
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    (out_dir / "report.md").write_text(f"{heading}\n\n{table}\n")
    details: dict[str, float | int | str] = {
        f"{m}/{a}/{k}": round(float(np.mean([r[k] for r in runs])), 5)
        for m, arms_ in results.items() for a, runs in arms_.items() for k in ("auc", "logloss")}
    details |= {"embedding_versions": len(exports), "train_samples_without_embeddings": train_without,
                "test_samples_without_embeddings": test_without}
    report = StageReport(name="ctr", rows={"train_samples": len(data.train.label),
                                           "test_samples": len(data.test.label)},
                         wall_s=timer.elapsed(), outputs={"dir": str(out_dir)}, details=details)
    mark_complete(out_dir, report.model_dump())
    return report, f"{heading}\n\n{table}"
