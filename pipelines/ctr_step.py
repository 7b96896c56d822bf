"""`kgrec eval ctr`: does a ranker gain from kgrec's embeddings? Same data, splits and seeds per arm.

Arms (cumulative, so each row adds one thing): `ids` (user, item, category, history ids),
`+text` (plus the export's item text features, `item_text.npy`), `+kgrec` (plus the export's
item and user embeddings). Models: DeepFM and DIN. Every (model, arm) trains once per seed;
the table gives test AUC and logloss as mean ± standard deviation over seeds, and each arm's
AUC lift over `ids` in percent. The embeddings reach the rankers through the FuxiCTR files
(`serving.ranker_export`), the format documented for ranking teams.

An export whose `as_of` is after the test split's first timestamp has seen test-period
events; the step records that in the report (`embeddings_after_cutoff`) rather than hiding it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from kg.errors import ConfigError
from pipelines.config import CtrSection
from pipelines.outputs import begin_stage, mark_complete, require_complete
from pipelines.report import StageReport, Timer
from serving.ctr.data import CtrData, Dataset

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


def _arms(data: CtrData, files: dict[str, Path]) -> dict[str, dict[str, list[np.ndarray]]]:
    from serving.ranker_export import aligned

    arms: dict[str, dict[str, list[np.ndarray]]] = {"ids": {}}
    text = [aligned(files["item_text"], data.item_ids)] if "item_text" in files else []
    if text:
        arms["+text"] = {"item": text}
    arms["+kgrec"] = {"item": [*text, aligned(files["item_id"], data.item_ids)],
                      "user": [aligned(files["user_id"], data.user_ids)]}
    return arms


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


def ctr_step(settings: CtrSection, data: CtrData, embeddings: Path,
             out_dir: Path) -> tuple[StageReport, str]:
    """Run every (model, arm, seed) on `data` and write `results.json`, `report.md`, the FuxiCTR files.

    Returns the stage report (for the run manifest) and the markdown table (for the run report).
    """
    from serving.ctr.train import train_and_score
    from serving.export import read_export
    from serving.ranker_export import write_fuxictr

    timer = Timer()
    export = read_export(embeddings)
    begin_stage(out_dir)
    late = export.manifest.as_of > data.cutoff
    if late:
        log.warning("ctr: embeddings as of %s postdate the test split (%s)",
                    export.manifest.as_of, data.cutoff)
    arms = _arms(data, write_fuxictr(export, out_dir / "fuxictr"))
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    for model in MODELS:
        for arm, tables in arms.items():
            runs = [train_and_score(model, data, tables, settings, seed) for seed in settings.seeds]
            results.setdefault(model, {})[arm] = runs
            log.info("ctr %s %s %s: AUC %s", data.name, model, arm, [round(r["auc"], 4) for r in runs])
    table = _table(results)
    heading = (f"CTR on {data.name} (test from {data.cutoff:%Y-%m-%d}; embeddings {export.manifest.version}, "
               f"model {export.manifest.model.name}; seeds {settings.seeds})")
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    (out_dir / "report.md").write_text(f"{heading}\n\n{table}\n")
    details: dict[str, float | int | str] = {
        f"{m}/{a}/{k}": round(float(np.mean([r[k] for r in runs])), 5)
        for m, arms_ in results.items() for a, runs in arms_.items() for k in ("auc", "logloss")}
    details["embeddings_after_cutoff"] = str(late)
    report = StageReport(name="ctr", rows={"train_samples": len(data.train.label),
                                           "test_samples": len(data.test.label)},
                         wall_s=timer.elapsed(), outputs={"dir": str(out_dir)}, details=details)
    mark_complete(out_dir, report.model_dump())
    return report, f"{heading}\n\n{table}"
