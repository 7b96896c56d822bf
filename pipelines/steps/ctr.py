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
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from kg.errors import ConfigError, InputDataError, NoEventsYet, StageOutputError, reading
from pipelines.config import IngestSection, Settings
from pipelines.ingest import instacart, movielens, online_retail
from pipelines.ingest.adapters import StageFn
from pipelines.ingest.chunks import ROW_COLUMN
from pipelines.ingest.sources import list_files
from pipelines.ingest.staging import REASON
from pipelines.ingest.tableset import split_locally, stage_locally
from pipelines.manifest import RunDirectory
from pipelines.outputs import MARKER, begin_stage, mark_complete, require_complete
from pipelines.report import StageReport, Timer
from serving.ctr.config import CtrSection
from serving.ctr.data import CtrData, Dataset, basket_samples, positive_lines, rating_samples

if TYPE_CHECKING:
    from gnn.config import GnnSection
    from serving.ctr.models import Tables  # torch: seconds to import, so only where a model trains
    from serving.export import Export

log = logging.getLogger("kgrec")
MODELS = ("DeepFM", "DIN")


def load_dataset(settings: CtrSection, dataset: Dataset, ingest_dir: Path | None = None) -> CtrData:
    """The dataset's samples and split: the configured paths, or `ingest_dir` for `events`.

    MovieLens, Online Retail and Instacart go through kgrec's own ingest adapters (in-process
    with polars, no Ray), so the evaluation sees the same canonical events the pipeline does.
    Instacart's orders are its baskets, on the adapter's rebuilt clock (`pipelines.ingest.instacart`).

    Raises:
        ConfigError: `events` without an ingest directory.
        StageOutputError: `ingest_dir` is not a finished ingest output.
    """
    if dataset == "movielens":
        root = settings.movielens_dir
        with reading(root, "MovieLens (ratings.csv, movies.csv)", "set ctr.movielens_dir to its folder"):
            ratings, movies = pl.read_csv(root / "ratings.csv"), pl.read_csv(root / "movies.csv")
        events = _staged(ratings, movielens.stage_events, "ratings.csv")
        items = _staged(movies, movielens.stage_items, "movies.csv")
        return rating_samples(events, items, settings)
    if dataset == "online-retail":
        path = settings.online_retail_path
        with reading(path, "UCI Online Retail (Parquet)", "set ctr.online_retail_path to the file"):
            raw = pl.read_parquet(path)
        lines = _staged(raw, online_retail.stage_events, path.name)
        items = _staged(raw, online_retail.stage_items, path.name).group_by("item_id").agg(
            pl.col("title").drop_nulls().mode().sort().first(), pl.lit(None, pl.String).alias("category"))
        return basket_samples("online-retail", lines, items, settings)
    if dataset == "instacart":
        staged = stage_locally(instacart.TABLE_SET, list_files(str(settings.instacart_dir)),
                               IngestSection().rows_per_batch)
        lines, products, _ = split_locally(staged)
        return basket_samples("instacart", lines, products.select("item_id", "title", "category"), settings)
    if ingest_dir is None:
        raise ConfigError("the events dataset needs an ingest output directory (--ingest)")
    require_complete(ingest_dir, "ingest", "--ingest")
    with reading(ingest_dir, "an ingest output (events/, items/)", "run `kgrec ingest` again"):
        events = pl.read_parquet(ingest_dir / "events")
        items = pl.read_parquet(ingest_dir / "items", columns=["item_id", "title", "category"])
    return basket_samples("events", positive_lines(events, settings, str(ingest_dir / "events")), items,
                          settings)


def _staged(raw: pl.DataFrame, stage: StageFn, source: str) -> pl.DataFrame:
    """Run an ingest adapter on a whole frame; keep the rows it accepts."""
    numbered = raw.with_row_index(ROW_COLUMN).with_columns(pl.col(ROW_COLUMN).cast(pl.Int64))
    frame = pl.from_arrow(stage(numbered.select([*raw.columns, ROW_COLUMN]), source, IngestSection()))
    assert isinstance(frame, pl.DataFrame)
    return frame.filter(pl.col(REASON).is_null())


def ctr_run_step(settings: Settings, run: RunDirectory) -> None:
    """The CTR table on the run's own events, with point-in-time embeddings.

    The model trained earlier in the run is exported again at times across the CTR training
    window and at its test split (`ctr_embeddings/`, `export_versions`); every sample reads
    the latest version made before it, so the rankers' "+kgrec" arm never sees a sample's own
    events, or the test period, through the embeddings' state. The model's weights were fit on
    its own training share of events (before `train_until`); the report records when that
    reaches past the cutoff (`model_fit_after_cutoff`), which only a CTR window older than the
    model's validation share can cause.
    """
    from gnn.train import load_result

    data = load_dataset(settings.ctr, "events", run.stage_dir("ingest"))
    exports = export_versions(settings.gnn, run.stage_dir("model"), data, settings.ctr.embedding_versions,
                              run.stage_dir("ctr_embeddings"))
    report, _ = ctr_step(settings.ctr, data, exports, run.stage_dir("ctr"))
    fit_until = load_result(run.stage_dir("model")).train_until
    report.details["model_fit_after_cutoff"] = str(fit_until > data.cutoff)
    if fit_until > data.cutoff:
        log.warning("ctr: the model's weights were fit on events until %s, past the CTR test split (%s)",
                    fit_until, data.cutoff)
    run.record(report)


def export_versions(gnn: GnnSection, model_dir: Path, data: CtrData, count: int, out_root: Path,
                    events_dir: Path | None = None, snapshot_dir: Path | None = None) -> list[Path]:
    """Point-in-time exports of `model_dir` for `data` under `out_root`: `count` + 1 version directories.

    Finished versions from an earlier call are kept (a re-run only makes what is missing); a
    time before the first event makes no version (the samples before it get none).
    `events_dir` / `snapshot_dir` default to the model's training inputs.

    Raises:
        StageOutputError: a finished version under `out_root` was exported at another time.
    """
    from pipelines.steps.gnn import export_step
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
    from serving.ranker_export import write_fuxictr

    timer = Timer()
    exports = _read_exports(embeddings)
    times = [export.manifest.as_of for export in exports]
    begin_stage(out_dir, "ctr")
    data, without = _point_in_time(data, times)
    arms = _arms(data, [write_fuxictr(e, out_dir / "fuxictr" / e.manifest.version) for e in exports])
    results = _train_arms(settings, data, arms)
    table = _table(results)
    heading = (f"CTR on {data.name} (test from {data.cutoff:%Y-%m-%d}; {len(exports)} embedding "
               f"version(s) {times[0]:%Y-%m-%d} to {times[-1]:%Y-%m-%d}, point in time; "
               f"model {exports[-1].manifest.model.name}; seeds {settings.seeds})")
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    (out_dir / "report.md").write_text(f"{heading}\n\n{table}\n")
    details: dict[str, float | int | str] = {
        f"{m}/{a}/{k}": round(float(np.mean([r[k] for r in runs])), 5)
        for m, arms_ in results.items() for a, runs in arms_.items() for k in ("auc", "logloss")}
    details |= {"embedding_versions": len(exports), "train_samples_without_embeddings": without[0],
                "test_samples_without_embeddings": without[1]}
    report = StageReport(name="ctr", rows={"train_samples": len(data.train.label),
                                           "test_samples": len(data.test.label)},
                         wall_s=timer.elapsed(), outputs={"dir": str(out_dir)}, details=details)
    mark_complete(out_dir, report.model_dump())
    return report, f"{heading}\n\n{table}"


def _read_exports(embeddings: list[Path]) -> list[Export]:
    """The exports in `embeddings`, oldest `as_of` first.

    Raises:
        InputDataError: none, or two with the same `as_of` or version name.
    """
    from serving.export import read_export

    exports = sorted((read_export(path) for path in embeddings), key=lambda e: e.manifest.as_of)
    times = [export.manifest.as_of for export in exports]
    names = {export.manifest.version for export in exports}
    if not exports or len(set(times)) < len(times) or len(names) < len(times):
        raise InputDataError(", ".join(map(str, embeddings)) or "--embeddings", "the CTR step needs "
                             "one or more exports with distinct as_of times and version names")
    return exports


def _point_in_time(data: CtrData, times: list[datetime]) -> tuple[CtrData, tuple[int, int]]:
    """`data` with each sample's export version assigned; how many train/test samples predate them all."""
    from serving.ctr.versions import assign

    train, train_without = assign(data.train, times)
    test, test_without = assign(data.test, times)
    if train_without or test_without:
        log.warning("ctr: %d training and %d test samples predate every export (the first is as of %s) "
                    "and get no kgrec vectors", train_without, test_without, times[0])
    return replace(data, train=train, test=test), (train_without, test_without)


def _train_arms(settings: CtrSection, data: CtrData,
                arms: dict[str, Tables]) -> dict[str, dict[str, list[dict[str, float]]]]:
    """Model -> arm -> one test result per seed."""
    from serving.ctr.train import train_and_score

    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    for model in MODELS:
        for arm, tables in arms.items():
            runs = [train_and_score(model, data, tables, settings, seed) for seed in settings.seeds]
            results.setdefault(model, {})[arm] = runs
            log.info("ctr %s %s %s: AUC %s", data.name, model, arm, [round(r["auc"], 4) for r in runs])
    return results
