"""Refine quality on three label sets through one table: variants without an LLM, critic, learning curve.

    kgrec ingest -c infra/configs/online_retail.yaml --format online-retail \
        --events ../shared/data/online_retail/online_retail.parquet --out /tmp/or/ingest
    kgrec candidates -c infra/configs/online_retail.yaml --in /tmp/or/ingest --out /tmp/or/candidates
    kgrec data synth -c infra/configs/local.yaml --out /tmp/synth/data
    kgrec ingest -c infra/configs/local.yaml --format parquet --events /tmp/synth/data/events \
        --items /tmp/synth/data/items.parquet --out /tmp/synth/ingest
    kgrec candidates -c infra/configs/local.yaml --in /tmp/synth/ingest --out /tmp/synth/candidates
    M=../shared/data/amazon_magazine_2018/meta_Magazine_Subscriptions.json.gz
    kgrec ingest --format amazon --items $M --out /tmp/amz/ingest
    kgrec candidates --in /tmp/amz/ingest --out /tmp/amz/candidates
    python benchmarks/refine_quality.py \
        --labels benchmarks/labels/online_retail_pairs.csv --ingest /tmp/or/ingest \
        --candidates /tmp/or/candidates [--extract DIR] \
        --synthetic-truth /tmp/synth/data/ground_truth.parquet --synthetic-ingest /tmp/synth/ingest \
        --synthetic-candidates /tmp/synth/candidates [--synthetic-extract DIR] \
        --amazon-links /tmp/amz/ingest/links --amazon-ingest /tmp/amz/ingest \
        --amazon-candidates /tmp/amz/candidates

Each set given (`_refine_sets.py`: hand labels, synthetic ground truth, Amazon weak labels) goes
through `report`, which prints, side by side:
1. variant detection without any LLM: the catalog-learned detector (`pipelines.refine.variants`,
   never tuned on these labels) beside the old word-list pre-filter (`pipelines.extract.prefilter`);
2. the critic, cross-validated (5 folds, at most `--max-train` labels per fold), per kind, mean ±
   sd over 5 fold assignments;
3. complement precision: what the critic keeps beside the lift baseline (the labeled pairs of the
   top lift decile called complements) and, with an extract output, beside the LLM alone;
4. the critic's learning curve per kind at 25, 50, 100, 200 and all training labels per fold.
A last table puts the sets side by side against the targets.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from _refine_sets import SetSpec, add_arguments, sets_from  # sibling module: benchmarks/ is on sys.path

from kg.schema import AnswerSource
from pipelines.extract.prefilter import variant_answer
from pipelines.extract.quality import pair_predictions
from pipelines.refine.critic import feature_matrix, out_of_fold, precision_recall
from pipelines.refine.features import FEATURES, Similarity, pair_features
from pipelines.refine.labels import KINDS, LabelSet
from pipelines.refine.titles import TitleModel
from pipelines.refine.variants import DEFAULT_PRICE_RATIO, VARIANT_THRESHOLD
from pipelines.steps.refine import title_similarity

SEEDS = (0, 1, 2, 3, 4)  # fold assignments: with tens of positives, one split alone is noise
CURVE = (25, 50, 100, 200, None)  # training labels per fold; None: all of the fold
MIN_POSITIVES = 5  # a kind with fewer positives (or negatives) than folds is not cross-validated
VARIANT_PRECISION, VARIANT_RECALL, COMPLEMENT_PRECISION = 0.95, 0.85, 0.6  # the targets


@dataclass
class Summary:
    """One set's headline figures for the side-by-side table (None: not measurable there)."""

    name: str
    pairs: int
    detector: tuple[float, float] | None = None
    detector_at_floor: float | None = None
    critic: dict[str, tuple[float, float]] = field(default_factory=dict)
    critic_variant_at_floor: float | None = None
    lift: float | None = None
    llm: float | None = None


def _truth(labels: LabelSet) -> pl.DataFrame:
    """(a, b, label) of a label set: the kind labeled positive, else unrelated."""
    positive = labels.rows.filter(pl.col("positive")).select("a", "b", pl.col("kind").alias("label"))
    return labels.pairs().join(positive, on=["a", "b"], how="left").with_columns(
        pl.col("label").fill_null("unrelated"))


def _row(name: str, y: np.ndarray, predicted: np.ndarray) -> str:
    precision, recall = precision_recall(y, predicted.astype(float), 0.5)
    return f"  {name:<48} precision {precision:.3f}  recall {recall:.3f}  (kept {int(predicted.sum())})"


def _positives(frame: pl.DataFrame, kind: str) -> np.ndarray:
    return (frame["label"] == kind).to_numpy().astype(int)


def _measurable(frame: pl.DataFrame) -> Iterator[tuple[str, np.ndarray]]:
    """(kind, 0/1 labels) of the kinds with enough labels to cross-validate; names the others."""
    for kind in KINDS:
        y = _positives(frame, kind)
        if min(int(y.sum()), len(y) - int(y.sum())) >= MIN_POSITIVES:
            yield kind, y
        else:
            print(f"  {kind:<12} too few labels ({int(y.sum())} positive)")


def recall_at_precision(y: np.ndarray, scores: np.ndarray, floor: float) -> float:
    """The best recall of any threshold on `scores` whose precision is at least `floor` (0 if none).

    The threshold is picked on the very scores it is judged on, so this is an optimistic reading
    of "recall at precision >= floor": it says whether such an operating point exists.
    """
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(y[order])
    precision = hits / np.arange(1, len(y) + 1)
    distinct = np.r_[scores[order][1:] != scores[order][:-1], True]  # cut only between distinct scores
    ok = distinct & (precision >= floor)
    return float(hits[ok].max() / y.sum()) if ok.any() and y.sum() else 0.0


def _variants(frame: pl.DataFrame, items: pl.DataFrame, summary: Summary) -> None:
    y = _positives(frame, "variant")
    print(f"1. variants without an LLM ({int(y.sum())} variant pairs of {len(y)})")
    if not y.sum():
        print("  no variant labels in this set")
        return
    score = frame["variant_score"].to_numpy()
    by_id = {r["item_id"]: r for r in items.iter_rows(named=True)}
    old = np.array([variant_answer(by_id[a], by_id[b], DEFAULT_PRICE_RATIO) is not None
                    for a, b in frame.select("a", "b").iter_rows()])
    print(_row("word-list pre-filter (baseline)", y, old))
    print(_row(f"catalog-learned detector (score >= {VARIANT_THRESHOLD})", y, score >= VARIANT_THRESHOLD))
    summary.detector = precision_recall(y, score, VARIANT_THRESHOLD)
    summary.detector_at_floor = recall_at_precision(y, score, VARIANT_PRECISION)
    print(f"  {'detector: best recall at precision >= 0.95':<48} recall {summary.detector_at_floor:.3f}"
          "  (threshold picked on these labels)")


def _critic(frame: pl.DataFrame, x: np.ndarray, max_train: int, threshold: float,
            summary: Summary) -> dict[str, np.ndarray]:
    """Per kind, out-of-fold precision/recall, mean ± sd over `SEEDS` fold assignments (seed 0's kept)."""
    scores = {}
    print(f"2. critic, 5-fold cross-validated, at most {max_train} training labels per fold, "
          f"mean ± sd over {len(SEEDS)} fold assignments")
    for kind, y in _measurable(frame):
        runs = [out_of_fold(x, y, 5, seed, max_train) for seed in SEEDS]
        scores[kind] = runs[0]
        figures = np.array([precision_recall(y, run, threshold) for run in runs])
        (p_mean, r_mean), (p_sd, r_sd) = figures.mean(axis=0), figures.std(axis=0)
        summary.critic[kind] = (float(p_mean), float(r_mean))
        print(f"  {kind:<12} precision {p_mean:.3f} ± {p_sd:.3f}  recall {r_mean:.3f} ± {r_sd:.3f}  "
              f"({int(y.sum())} positive)")
        if kind == "variant":
            summary.critic_variant_at_floor = float(np.mean([recall_at_precision(y, run, VARIANT_PRECISION)
                                                             for run in runs]))
            print(f"  {'':<12} best recall at precision >= 0.95: {summary.critic_variant_at_floor:.3f} "
                  "(threshold picked per fold assignment on its own scores)")
    return scores


def _complements(frame: pl.DataFrame, critic: np.ndarray | None, threshold: float, summary: Summary) -> None:
    y = _positives(frame, "complement")
    print(f"3. complement precision ({int(y.sum())} complement pairs of {len(y)})")
    lift = frame["log_lift"].fill_nan(None).fill_null(-np.inf).to_numpy()
    if np.isfinite(lift).any():
        top = lift >= np.quantile(lift[np.isfinite(lift)], 0.9)
        print(_row("lift baseline (top decile of lift)", y, top))
        summary.lift = precision_recall(y, top.astype(float), 0.5)[0]
    else:
        print("  lift baseline: none of these pairs was co-purchased (no baskets), so no lift to rank by")
    if "llm_said" in frame.columns and frame["llm_said"].is_not_null().any():
        asked = frame["llm_said"].is_not_null().to_numpy()
        said = (frame["llm_said"] == "complement").to_numpy()[asked]
        print(_row(f"LLM alone (asked {int(asked.sum())}; pre-filter's left out)", y[asked], said))
        summary.llm = precision_recall(y[asked], said.astype(float), 0.5)[0]
        if critic is not None:
            print(_row("critic keeps, on the pairs the LLM answered", y[asked], critic[asked] >= threshold))
    if critic is not None:
        print(_row(f"critic keeps (score >= {threshold}, fold seed 0)", y, critic >= threshold))


def _learning_curve(frame: pl.DataFrame, x: np.ndarray, threshold: float) -> None:
    train = len(frame) * 4 // 5
    print(f"4. learning curve: precision/recall at {threshold}, out of fold, mean over {len(SEEDS)} fold "
          f"assignments, by training labels per fold (a fold has {train})")
    for kind, y in _measurable(frame):
        cells = []
        for size in CURVE:
            if size is not None and size >= train:
                continue
            figures = np.mean([precision_recall(y, out_of_fold(x, y, 5, seed, size), threshold)
                               for seed in SEEDS], axis=0)
            cells.append(f"{size or f'all {train}'}: {figures[0]:.2f}/{figures[1]:.2f}")
        print(f"  {kind:<12} " + "   ".join(cells))


def report(spec: SetSpec, similarity: Similarity, max_train: int, threshold: float) -> Summary:
    """The whole table for one label set; the same code for every set."""
    print(f"\n== {spec.name} ==\n  {spec.caveat}")
    items = pl.read_parquet(spec.ingest / "items")
    mined = pl.read_parquet(spec.candidates / "pairs")
    labels = spec.labeler(items, spec.candidates)
    answers = pl.read_parquet(spec.extract / "answers") if spec.extract else None
    features = pair_features(labels.pairs(), items, mined, answers, TitleModel.fit(items["title"].to_list()),
                             similarity)
    frame = features.join(_truth(labels), on=["a", "b"], how="inner").sort("a", "b")  # folds follow row order
    if answers is not None:  # what the model itself said, failures as unrelated (the critic sees all answers)
        said = pair_predictions(answers.filter(pl.col("source") != AnswerSource.PREFILTER.value))
        frame = frame.join(said.select("a", "b", pl.col("predicted").alias("llm_said"))
                           .unique(["a", "b"], keep="last", maintain_order=True),
                           on=["a", "b"], how="left", maintain_order="left")
    x = feature_matrix(frame, FEATURES)
    titled = frame.select(pl.col("one_span").is_not_nan().mean()).item()
    print(f"  {frame.height} labeled pairs ({labels.unknown_ids} naming unknown items left out); labels: "
          f"{dict(frame['label'].value_counts().sort('label').iter_rows())}; {mined.height} mined pairs, "
          f"{frame['co_purchased'].mean():.0%} of the labeled co-purchased, {titled:.0%} with both titles")
    summary = Summary(spec.name, frame.height)
    _variants(frame, items, summary)
    scores = _critic(frame, x, max_train, threshold, summary)
    _complements(frame, scores.get("complement"), threshold, summary)
    _learning_curve(frame, x, threshold)
    return summary


def _cell(value: float | tuple[float, float] | None) -> str:
    if value is None:
        return "-"
    return f"{value[0]:.2f}/{value[1]:.2f}" if isinstance(value, tuple) else f"{value:.2f}"


def _variant_target(s: Summary) -> str:
    """Met by the detector or the critic at its own threshold; else whether a picked threshold would."""
    for name, figures in (("detector", s.detector), ("critic", s.critic.get("variant"))):
        if figures is not None and figures[0] >= VARIANT_PRECISION and figures[1] >= VARIANT_RECALL:
            return f"met ({name})"
    at_floor = [r for r in (s.detector_at_floor, s.critic_variant_at_floor) if r is not None]
    if not at_floor:
        return "n/a"
    return "missed" if max(at_floor) < VARIANT_RECALL else "missed (met only at a picked threshold)"


def side_by_side(summaries: list[Summary]) -> None:
    """Headline figures of every set, and whether each target is met there."""
    print(f"\n== side by side (precision/recall; targets: variant recall >= {VARIANT_RECALL} at precision "
          f">= {VARIANT_PRECISION}; complement precision >= {COMPLEMENT_PRECISION}) ==")
    heads = ("set", "pairs", "detector", "det. R@P.95", "critic variant", "crit. R@P.95", "lift compl.",
             "LLM compl.", "critic compl.", "critic subst.", "variant target", "compl. target")
    print("  " + " | ".join(heads))
    for s in summaries:
        complement = s.critic.get("complement")
        complement_target = ("n/a" if complement is None
                             else "met" if complement[0] >= COMPLEMENT_PRECISION else "missed")
        cells = (s.name, str(s.pairs), _cell(s.detector), _cell(s.detector_at_floor),
                 _cell(s.critic.get("variant")), _cell(s.critic_variant_at_floor), _cell(s.lift),
                 _cell(s.llm), _cell(complement), _cell(s.critic.get("substitute")), _variant_target(s),
                 complement_target)
        print("  " + " | ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    parser.add_argument("--max-train", type=int, default=100)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--text-cache", type=Path, default=Path(".kgrec/text_cache"))
    args = parser.parse_args()
    specs = sets_from(args, parser)
    similarity = title_similarity(args.text_cache)
    side_by_side([report(spec, similarity, args.max_train, args.threshold) for spec in specs])


if __name__ == "__main__":
    main()
