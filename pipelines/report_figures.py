"""The run report's figures, read from what the stages left in the run directory.

One function per figure, each taking the run directory and its manifest and returning what
it drew (`Drawn`): the SVG with a caption, or, when its input is not in the run (no critic, no CTR
evaluation, a run that failed before training), a short note saying so instead of a figure.
The inputs are the stages' own files (`extract/answers`, `refine/scores`, `snapshot/relations.parquet`,
`model/train.json`, `ctr/results.json`) and the manifest's stage reports, read as they are
written: this module imports no gnn/ or serving/ code (the dependency table), only their files.
"""

from __future__ import annotations

import json
import logging
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from kg.schema import AnswerSource, AnswerStatus, LlmTask
from pipelines import plots
from pipelines.manifest import RunManifest
from pipelines.report import StageReport

log = logging.getLogger("kgrec")
SOURCES = [s.value for s in AnswerSource]  # the stacks' order: asked, cached, pre-filtered


@dataclass(frozen=True)
class Drawn:
    """What a figure's reader made: the caption and the SVG, or (`svg` None) why there is none."""

    text: str
    svg: str | None = None


@dataclass(frozen=True)
class Panel:
    """One figure of the report, named (its ids in the page start with `name`) and titled."""

    name: str
    title: str
    text: str
    svg: str | None = None


Reader = Callable[[Path, RunManifest], Drawn]


def absent(why: str) -> Drawn:
    """The note that stands in for a figure whose input is not in the run."""
    return Drawn(f"Not in this run: {why}.")


def _stage(manifest: RunManifest, name: str) -> StageReport | None:
    """The last report of stage `name` (a re-run stage reports again), or None when it did not run."""
    return next((s for s in reversed(manifest.stages) if s.name == name), None)


def _parquet(path: Path) -> bool:
    """Whether `path` is a Parquet file or a directory holding at least one."""
    return path.is_file() or (path.is_dir() and any(path.glob("*.parquet")))


def stage_times(run_dir: Path, manifest: RunManifest) -> Drawn:
    """Wall seconds per stage, in the order they ran."""
    if not manifest.stages:
        return absent("no stage finished")
    total = sum(s.wall_s for s in manifest.stages)
    svg = plots.horizontal_bars([s.name for s in manifest.stages],
                                [s.wall_s for s in manifest.stages], "wall seconds")
    return Drawn(f"{len(manifest.stages)} stages, {total:,.1f} s in all.", svg)


def extraction_outcomes(run_dir: Path, manifest: RunManifest) -> Drawn:
    """Answers by outcome (a pair's relation, the item questions, failures) and by where they came from."""
    answers_dir = run_dir / "extract" / "answers"
    if not _parquet(answers_dir):
        return absent("the extract stage wrote no answers")
    answers = pl.read_parquet(answers_dir, columns=["task", "source", "status", "answer_json"])
    outcome = (pl.when(pl.col("status") == AnswerStatus.FAILED.value).then(pl.lit("failed"))
               .when(pl.col("task") == LlmTask.PAIR.value)
               .then(pl.lit("pair: ") + pl.col("answer_json").str.json_path_match("$.relation"))
               .otherwise(pl.col("task"))).fill_null("unknown")
    counts = answers.group_by(outcome.alias("outcome"), "source").len()
    totals = counts.group_by("outcome").agg(pl.col("len").sum())
    categories = totals.sort(["len", "outcome"], descending=[True, False])["outcome"].to_list()
    found = dict(zip(zip(counts["outcome"], counts["source"], strict=True), counts["len"], strict=True))
    sources = [s for s in SOURCES if s in counts["source"]] + sorted(set(counts["source"]) - set(SOURCES))
    stacks = {s: [found.get((c, s), 0) for c in categories] for s in sources}
    svg = plots.stacked_bars(categories, stacks, "answers")
    details = report.details if (report := _stage(manifest, "extract")) else {}
    model = f" Model {details['model']} ({details.get('backend', '?')})." if "model" in details else ""
    return Drawn(f"{answers.height:,} answers by outcome and source "
                 f"(llm: asked in this run; cache; prefilter: answered without a model).{model}", svg)


def critic_scores(run_dir: Path, manifest: RunManifest) -> Drawn:
    """The critic's score distribution per relation kind over the answered pairs, with the threshold."""
    report = _stage(manifest, "refine")
    critic = str(report.details.get("critic", "none")) if report else "none"
    scores_dir = run_dir / "refine" / "scores"
    if not _parquet(scores_dir):
        why = "refine did not run" if report is None else f"no critic scored the pairs (critic: {critic})"
        return absent(why)
    scores = pl.read_parquet(scores_dir)
    columns = sorted(c for c in scores.columns if c.startswith("critic_"))
    series = {c.removeprefix("critic_"): scores[c].drop_nulls().drop_nans().to_list() for c in columns}
    series = {kind: values for kind, values in series.items() if values}
    if not series:
        return absent(f"the critic ({critic}) has no trained kind")
    threshold = _config(manifest, "refine", "threshold")
    svg = plots.histograms(series, "critic score (probability the relation holds)",
                           float(threshold) if isinstance(threshold, int | float) else None)
    decided = ""
    if report is not None and "kept_by_critic" in report.details:
        d = report.details
        decided = (f" Kept by the critic {d['kept_by_critic']}, dropped {d['dropped_by_critic']}, "
                   f"relabelled VARIANT_OF {d['relabelled_variant']}.")
    return Drawn(f"Critic {critic} over {scores.height:,} answered pairs.{decided}", svg)


def _config(manifest: RunManifest, section: str, key: str) -> object:
    """A setting of the run's config (the manifest keeps it whole), None when absent."""
    values = manifest.config.get(section)
    return values.get(key) if isinstance(values, dict) else None


def degree_distribution(run_dir: Path, manifest: RunManifest) -> Drawn:
    """Nodes per degree in the snapshot the temporal model trained on (items and concepts alike).

    A node's degree is its number of distinct neighbours, both directions, as the snapshot's
    own statistics count it (an undirected simple graph): several relations between two nodes
    count once.
    """
    path = run_dir / "snapshot" / "relations.parquet"
    if not _parquet(path):
        return absent("no graph snapshot was written")
    edges = pl.read_parquet(path, columns=["head", "tail"])
    links = pl.concat([edges.select(node=pl.col("head"), other=pl.col("tail")),
                       edges.select(node=pl.col("tail"), other=pl.col("head"))])
    degrees: list[int] = links.unique().group_by("node").len("degree")["degree"].to_list()
    if not degrees:
        return absent("the snapshot holds no relations")
    nodes = pl.DataFrame({"degree": degrees}).group_by("degree").len("nodes").sort("degree")
    svg = plots.degree_distribution(nodes["degree"].to_list(), nodes["nodes"].to_list())
    return Drawn(f"{len(degrees):,} connected nodes, {edges.height:,} relations; max degree {max(degrees)}.",
                 svg)


def validation_mrr(run_dir: Path, manifest: RunManifest) -> Drawn:
    """The temporal model's validation MRR per epoch (`model/train.json`), the best one ringed."""
    path = run_dir / "model" / "train.json"
    if not path.exists():
        return absent("the temporal model was not trained")
    result: dict[str, Any] = json.loads(path.read_text())
    epochs = [(int(e["epoch"]), float(e["val"]["mrr"])) for e in result["epochs"]]
    if not epochs:
        return absent("training recorded no epoch")
    test = result.get("metrics", {}).get("test", {})
    reference = ("test MRR (best epoch)", float(test["mrr"])) if "mrr" in test else None
    svg = plots.epoch_curve([e for e, _ in epochs], [m for _, m in epochs], "validation MRR",
                            result.get("best_epoch"), reference)
    figures = f" Test MRR {test['mrr']:.4f}, AUC {test['auc']:.4f}, AP {test['ap']:.4f}." if reference else ""
    return Drawn(f"{result['model_name']}, {len(epochs)} epoch(s), best "
                 f"{result.get('best_epoch')}.{figures}", svg)


def ctr_auc(run_dir: Path, manifest: RunManifest) -> Drawn:
    """Test AUC per ranker and arm, mean ± standard deviation over seeds (`ctr/results.json`)."""
    path = run_dir / "ctr" / "results.json"
    if not path.exists():
        off = _config(manifest, "run", "ctr") is False
        return absent("the CTR evaluation is off (run.ctr is false)" if off
                      else "the CTR evaluation did not run")
    results: dict[str, dict[str, list[dict[str, float]]]] = json.loads(path.read_text())
    groups = {model: {arm: _mean_sd([r["auc"] for r in runs]) for arm, runs in arms.items() if runs}
              for model, arms in results.items()}
    groups = {model: arms for model, arms in groups.items() if arms}
    if not groups:
        return absent("the CTR evaluation recorded no result")
    seeds = max(len(runs) for arms in results.values() for runs in arms.values())
    svg = plots.grouped_error_bars(groups, "test AUC", chance=0.5)
    return Drawn(f"Mean ± standard deviation over {seeds} seed(s); ids: ids only, +text: "
                 "plus item text, +kgrec: plus the run's embeddings (point in time).", svg)


def _mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and population standard deviation, as the CTR table (`ctr/report.md`) gives them."""
    return statistics.fmean(values), statistics.pstdev(values)


# name (the prefix of the figure's ids in the page) -> title and reader, in reading order
FIGURES: dict[str, tuple[str, Reader]] = {
    "stage-times": ("Stage times", stage_times),
    "extraction": ("Extraction outcomes", extraction_outcomes),
    "critic": ("Critic scores", critic_scores),
    "degree": ("Graph degree distribution", degree_distribution),
    "mrr": ("Temporal model: validation MRR", validation_mrr),
    "ctr": ("Rankers: CTR test AUC per arm", ctr_auc),
}


def panels(run_dir: Path, manifest: RunManifest) -> list[Panel]:
    """Every figure of the report, in reading order.

    A figure that fails to draw (an input written by another version, a bug) becomes a note
    naming the error and is logged: the report is written at the very end of a run whose
    outputs are all in place, and one figure must not take the others, or the run, down.
    """
    found = []
    for name, (title, read) in FIGURES.items():
        try:
            drawn = read(run_dir, manifest)
        except Exception as e:  # any error: see the docstring
            log.warning("report.html: the %s figure could not be drawn", name, exc_info=True)
            drawn = Drawn(f"Could not be drawn: {type(e).__name__}: {e}")
        found.append(Panel(name, title, drawn.text, plots.scoped(drawn.svg, name) if drawn.svg else None))
    return found
