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
from pipelines.refine.critic import out_of_fold, precision_recall
from pipelines.refine.features import FEATURES, pair_features
from pipelines.refine.labels import read_labels
from pipelines.refine.titles import TitleModel
from pipelines.refine.variants import DEFAULT_PRICE_RATIO, VARIANT_THRESHOLD
from pipelines.steps.refine import title_similarity


def _truth(labels_csv: Path) -> pl.DataFrame:
    raw = pl.read_csv(labels_csv, infer_schema=False)
    return raw.select(pl.min_horizontal("a", "b").alias("a"), pl.max_horizontal("a", "b").alias("b"),
                      pl.col("label").str.to_lowercase())


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


def _critic(frame: pl.DataFrame, max_train: int, threshold: float) -> dict[str, np.ndarray]:
    x = frame.select([pl.col(n).cast(pl.Float64).fill_null(np.nan) for n in FEATURES]).to_numpy()
    scores = {}
    print(f"2. critic, 5-fold cross-validated, at most {max_train} training labels per fold")
    for kind in ("complement", "substitute", "variant"):
        y = (frame["label"] == kind).to_numpy().astype(int)
        if min(int(y.sum()), len(y) - int(y.sum())) < 5:
            print(f"  {kind:<12} too few labels ({int(y.sum())} positive)")
            continue
        scores[kind] = out_of_fold(x, y, 5, 0, max_train)
        precision, recall = precision_recall(y, scores[kind], threshold)
        print(f"  {kind:<12} precision {precision:.3f}  recall {recall:.3f}  ({int(y.sum())} positive)")
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
        print(_row(f"critic keeps (score >= {threshold})", y, critic >= threshold))


def _learning_curve(frame: pl.DataFrame) -> None:
    x = frame.select([pl.col(n).cast(pl.Float64).fill_null(np.nan) for n in FEATURES]).to_numpy()
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
    frame = features.join(_truth(args.labels), on=["a", "b"], how="inner")
    print(f"{frame.height} labeled pairs ({labels.unknown_ids} naming unknown items left out); "
          f"labels: {dict(frame['label'].value_counts().sort('label').iter_rows())}")
    _variants(frame, items)
    scores = _critic(frame, args.max_train, args.threshold)
    _complements(frame, scores.get("complement"), args.threshold)
    _learning_curve(frame)


if __name__ == "__main__":
    main()
