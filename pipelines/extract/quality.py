"""Model-agnostic quality of extracted knowledge against labels, beside a co-occurrence baseline.

Scores the pairs the extraction asked about (including the pre-filter's) against labels: the
synthetic generator's ground truth (complete: a pair it does not list is unrelated), any CSV
with columns a, b, label, or a links table `kgrec ingest` wrote (weak labels read by
`pipelines.ingest.links`: bought with it, a complement; viewed instead, a substitute; pairs
linked both ways left out); the last two are partial: only labelled pairs are scored. Labels: complement,
substitute, variant, unrelated. A failed answer counts as predicting no relation. The baseline
is what co-occurrence alone would say: the top `baseline_share` of the same pairs by lift are
called complements. Commonsense tails are scored against the ground truth's concepts (a match
is the same words, or at least half of the words in common).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel

from kg.errors import InputDataError, reading
from kg.schema import AnswerStatus, LlmTask, concept_text
from pipelines.extract.records import COMMONSENSE_FIELDS
from pipelines.ingest.links import linked_labels, read_links

PAIR_LABELS = ("complement", "substitute", "variant", "unrelated")
_TRUTH_LABELS = {"complement": "complement", "substitute": "substitute", "variant_of": "variant"}


class Score(BaseModel):
    """Precision and recall of one method on one label."""

    method: str
    label: str
    predicted: int
    actual: int
    correct: int

    @property
    def precision(self) -> float:
        """Correct share of the predictions (0 when nothing was predicted)."""
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        """Found share of the actual cases (0 when there are none)."""
        return self.correct / self.actual if self.actual else 0.0


def _pair(a: pl.Expr, b: pl.Expr) -> list[pl.Expr]:
    return [pl.min_horizontal(a, b).alias("a"), pl.max_horizontal(a, b).alias("b")]


def load_labels(path: Path) -> tuple[pl.DataFrame, pl.DataFrame | None, bool]:
    """(pair labels, commonsense truth or None, labels complete?) from a CSV, ground truth or links.

    Raises:
        InputDataError: the file is missing, lacks columns, or uses unknown labels.
    """
    if not path.exists():
        raise InputDataError(str(path), "no such labels file; pass a labels CSV (a, b, label) or the "
                             "synthetic ground_truth.parquet as --labels")
    if path.suffix == ".csv":
        with reading(path, "a labels CSV (columns a, b, label)", "fix the file or pass another --labels"):
            labels = pl.read_csv(path, infer_schema=False)
        if not {"a", "b", "label"} <= set(labels.columns):
            raise InputDataError(str(path), f"needs columns a, b, label (has {', '.join(labels.columns)})")
        labels = labels.with_columns(pl.col("label").str.strip_chars().str.to_lowercase())
        bad = labels.with_row_index("row").filter(~pl.col("label").is_in(PAIR_LABELS))
        if bad.height:
            rows = ", ".join(f"row {r['row'] + 2}: {r['label']!r}" for r in bad.head(5).iter_rows(named=True))
            raise InputDataError(str(path), f"unknown labels ({rows}); use {', '.join(PAIR_LABELS)}")
        return labels.select(*_pair(pl.col("a"), pl.col("b")), "label").unique(["a", "b"]), None, False
    with reading(path, "ground truth Parquet (`kgrec data synth` writes ground_truth.parquet) or links",
                 "pass that file, a links table, or a labels CSV (a, b, label), as --labels"):
        truth = pl.read_parquet(path if path.is_file() else path / "*.parquet")
    if "kind" in truth.columns:
        return linked_labels(read_links(path)), None, False
    if not {"head", "relation", "tail", "tail_kind"} <= set(truth.columns):
        raise InputDataError(str(path), "neither ground truth (head, relation, tail, tail_kind) nor a links "
                                        f"table (a, b, kind): has {', '.join(truth.columns)}")
    pairs = (truth.filter(pl.col("relation").is_in(list(_TRUTH_LABELS)))
             .select(*_pair(pl.col("head"), pl.col("tail")),
                     pl.col("relation").replace_strict(_TRUTH_LABELS).alias("label"))
             .unique(["a", "b"]))
    commonsense = truth.filter(pl.col("tail_kind") == "concept").select(
        pl.col("head").alias("item_id"), "relation", pl.col("tail").alias("truth"))
    return pairs, commonsense, True


def _answers(extract_dir: Path) -> pl.DataFrame:
    path = extract_dir / "answers"
    if not path.is_dir():
        raise InputDataError(str(path), "no extract answers here; pass the directory `kgrec extract` wrote "
                             "(its --out) as --pred")
    with reading(path, "the extract output's answers", "run `kgrec extract` again"):
        return pl.read_parquet(path / "*.parquet")


def pair_predictions(answers: pl.DataFrame) -> pl.DataFrame:
    """(a, b, lift, predicted) per pair answer of an `answers` table; a failed answer predicts unrelated."""
    pairs = answers.filter(pl.col("task") == LlmTask.PAIR.value)
    predicted = [json.loads(a)["relation"] if s == AnswerStatus.OK and a else "unrelated"
                 for a, s in zip(pairs["answer_json"], pairs["status"], strict=True)]
    return pairs.select(*_pair(pl.col("item_a"), pl.col("item_b")), "lift").with_columns(
        pl.Series("predicted", predicted, dtype=pl.String))


def _scores(method: str, frame: pl.DataFrame, column: str) -> list[Score]:
    return [Score(method=method, label=label, predicted=int((frame[column] == label).sum()),
                  actual=int((frame["label"] == label).sum()),
                  correct=int(((frame[column] == label) & (frame["label"] == label)).sum()))
            for label in PAIR_LABELS[:3]]


def score_pairs(extract_dir: Path, labels: pl.DataFrame, complete: bool,
                baseline_share: float = 0.5) -> list[Score]:
    """Per-label scores of the extraction and of the lift baseline on the same pairs."""
    predictions = pair_predictions(_answers(extract_dir))
    frame = (predictions.join(labels, on=["a", "b"], how="left" if complete else "inner")
             .with_columns(pl.col("label").fill_null("unrelated")))
    if frame.is_empty():
        return []
    cut = frame["lift"].quantile(1 - baseline_share, "nearest")
    frame = frame.with_columns(pl.when(pl.col("lift") >= cut).then(pl.lit("complement"))
                               .otherwise(pl.lit("unrelated")).alias("baseline"))
    return _scores("llm", frame, "predicted") + _scores("cooccurrence", frame, "baseline")


def _matches(predicted: str, truth: str) -> bool:
    a, b = set(concept_text(predicted).split()), set(concept_text(truth).split())
    return bool(a and b) and (a == b or len(a & b) / len(a | b) >= 0.5)


def score_commonsense(extract_dir: Path, truth: pl.DataFrame) -> list[Score]:
    """Per-relation scores of commonsense tails for the items that were asked."""
    answers = _answers(extract_dir).filter(pl.col("task") == LlmTask.COMMONSENSE.value)
    truth_by_item: dict[tuple[str, str], str] = {(r["item_id"], r["relation"]): r["truth"]
                                                 for r in truth.iter_rows(named=True)}
    counts: dict[str, list[int]] = {field: [0, 0, 0] for field in COMMONSENSE_FIELDS}
    for row in answers.iter_rows(named=True):
        answer: dict[str, Any] = json.loads(row["answer_json"]) if row["status"] == AnswerStatus.OK else {}
        for field in COMMONSENSE_FIELDS:
            expected = truth_by_item.get((row["item_a"], field))
            said = concept_text(answer.get(field) or "")
            counts[field][0] += bool(said)
            counts[field][1] += expected is not None
            counts[field][2] += bool(said and expected and _matches(said, expected))
    return [Score(method="llm", label=field, predicted=p, actual=a, correct=c)
            for field, (p, a, c) in counts.items() if a or p]
