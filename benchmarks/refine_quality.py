"""Refine quality on labeled real pairs: variant detection without an LLM, and the critic's learning curve.

    kgrec ingest -c infra/configs/online_retail.yaml --format online-retail \
        --events ../shared/data/online_retail/online_retail.parquet --out /tmp/or/ingest
    kgrec candidates -c infra/configs/online_retail.yaml --in /tmp/or/ingest --out /tmp/or/candidates
    python benchmarks/refine_quality.py --ingest /tmp/or/ingest --candidates /tmp/or/candidates \
        --labels benchmarks/labels/online_retail_pairs.csv [--extract DIR]

Prints, in one run and side by side:
1. variant detection without any LLM on the labeled pairs: the catalog-learned detector
   (`pipelines.refine.variants`, never tuned on these labels) beside the old word-list pre-filter
   (`pipelines.extract.prefilter`): precision and recall of "variant";
2. the critic, cross-validated (5 folds, at most `--max-train` labels per fold), per kind;
3. complement precision: what the critic keeps as complements beside the lift baseline (the
   labeled pairs of the top lift decile called complements) and, with `--extract`, beside the
   LLM's own answers;
4. the critic's learning curve at 25, 50, 100, 200 training labels per fold.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.extract.prefilter import variant_answer
from pipelines.refine.critic import feature_matrix, out_of_fold, precision_recall
from pipelines.refine.features import FEATURES, pair_features
from pipelines.refine.labels import LabelSet, read_labels
from pipelines.refine.titles import TitleModel
from pipelines.refine.variants import DEFAULT_PRICE_RATIO, VARIANT_THRESHOLD
from pipelines.steps.refine import title_similarity

SEEDS = (0, 1, 2, 3, 4)  # fold assignments: with tens of positives, one split alone is noise


def _truth(labels: LabelSet) -> pl.DataFrame:
    """(a, b, label) of a labels file: the kind labeled positive, else unrelated."""
    positive = labels.rows.filter(pl.col("positive")).select("a", "b", pl.col("kind").alias("label"))
    return labels.pairs().join(positive, on=["a", "b"], how="left").with_columns(
        pl.col("label").fill_null("unrelated"))


def _row(name: str, y: np.ndarray, predicted: np.ndarray) -> str:
    precision, recall = precision_recall(y, predicted.astype(float), 0.5)
    return f"  {name:<44} precision {precision:.3f}  recall {recall:.3f}  (kept {int(predicted.sum())})"


def _variants(frame: pl.DataFrame, items: pl.DataFrame) -> None:
    y = (frame["label"] == "variant").to_numpy().astype(int)
    detector = (frame["variant_score"] >= VARIANT_THRESHOLD).to_numpy()
    by_id = {r["item_id"]: r for r in items.iter_rows(named=True)}
    old = np.array([variant_answer(by_id[a], by_id[b], DEFAULT_PRICE_RATIO) is not None
                    for a, b in frame.select("a", "b").iter_rows()])
    print(f"1. variants without an LLM ({int(y.sum())} variant pairs of {len(y)})")
    print(_row("word-list pre-filter (baseline)", y, old))
    print(_row(f"catalog-learned detector (score >= {VARIANT_THRESHOLD})", y, detector))


def _critic(frame: pl.DataFrame, x: np.ndarray, max_train: int, threshold: float) -> dict[str, np.ndarray]:
    """Per kind, out-of-fold precision/recall, mean ± sd over `SEEDS` fold assignments (seed 0's kept)."""
    scores = {}
    print(f"2. critic, 5-fold cross-validated, at most {max_train} training labels per fold, "
          f"mean ± sd over {len(SEEDS)} fold assignments")
    for kind in ("complement", "substitute", "variant"):
        y = (frame["label"] == kind).to_numpy().astype(int)
        if min(int(y.sum()), len(y) - int(y.sum())) < 5:
            print(f"  {kind:<12} too few labels ({int(y.sum())} positive)")
            continue
        runs = [out_of_fold(x, y, 5, seed, max_train) for seed in SEEDS]
        scores[kind] = runs[0]
        figures = np.array([precision_recall(y, run, threshold) for run in runs])
        (p_mean, r_mean), (p_sd, r_sd) = figures.mean(axis=0), figures.std(axis=0)
        print(f"  {kind:<12} precision {p_mean:.3f} ± {p_sd:.3f}  recall {r_mean:.3f} ± {r_sd:.3f}  "
              f"({int(y.sum())} positive)")
    return scores


def _complements(frame: pl.DataFrame, critic: np.ndarray | None, threshold: float) -> None:
    y = (frame["label"] == "complement").to_numpy().astype(int)
    lift = frame["log_lift"].fill_null(-np.inf).to_numpy()
    top = lift >= np.quantile(lift[np.isfinite(lift)], 0.9) if np.isfinite(lift).any() else lift > 0
    print(f"3. complement precision ({int(y.sum())} complement pairs of {len(y)})")
    print(_row("lift baseline (top decile of lift)", y, top))
    if frame["llm_asked"].sum():
        asked = frame["llm_asked"].to_numpy() > 0
        said = frame["llm_complement"].to_numpy()[asked] > 0
        print(_row(f"LLM alone (asked {int(asked.sum())})", y[asked], said))
    if critic is not None:
        print(_row(f"critic keeps (score >= {threshold}, fold seed 0)", y, critic >= threshold))


def _learning_curve(frame: pl.DataFrame, x: np.ndarray) -> None:
    print("4. learning curve (precision / recall at 0.5, out of fold)")
    for kind in ("complement", "variant"):
        y = (frame["label"] == kind).to_numpy().astype(int)
        if min(int(y.sum()), len(y) - int(y.sum())) < 5:
            continue
        cells = []
        for size in (25, 50, 100, 200):
            precision, recall = precision_recall(y, out_of_fold(x, y, 5, 0, size), 0.5)
            cells.append(f"{size}: {precision:.2f}/{recall:.2f}")
        print(f"  {kind:<12} " + "   ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ingest", type=Path, required=True)
    parser.add_argument("--candidates", type=Path, required=True)
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--extract", type=Path)
    parser.add_argument("--max-train", type=int, default=100)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--text-cache", type=Path, default=Path(".kgrec/text_cache"))
    args = parser.parse_args()
    items = pl.read_parquet(args.ingest / "items")
    labels = read_labels([args.labels], items["item_id"].to_list())
    answers = pl.read_parquet(args.extract / "answers") if args.extract else None
    features = pair_features(labels.pairs(), items, pl.read_parquet(args.candidates / "pairs"), answers,
                             TitleModel.fit(items["title"].to_list()), title_similarity(args.text_cache))
    frame = features.join(_truth(labels), on=["a", "b"], how="inner").sort("a", "b")  # folds follow row order
    x = feature_matrix(frame, FEATURES)
    print(f"{frame.height} labeled pairs ({labels.unknown_ids} naming unknown items left out); "
          f"labels: {dict(frame['label'].value_counts().sort('label').iter_rows())}")
    _variants(frame, items)
    scores = _critic(frame, x, args.max_train, args.threshold)
    _complements(frame, scores.get("complement"), args.threshold)
    _learning_curve(frame, x)


if __name__ == "__main__":
    main()
