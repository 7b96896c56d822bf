"""The quality harness scores any labelled pairs, beside the lift-only baseline."""

import json
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg.arrow_schema import arrow_schema_of
from kg.errors import InputDataError
from kg.schema import LlmAnswer
from pipelines.extract.quality import load_labels, score_commonsense, score_pairs


def write_answers(directory: Path, rows: list[dict[str, object]]) -> Path:
    (directory / "answers").mkdir(parents=True)
    base = {"key": "k", "input_json": "{}", "n_ab": 1, "first_seen": None, "last_seen": None, "model": "m",
            "prompt_version": "v", "source": "llm", "reason": None, "raw": None, "requests": 1, "attempts": 1,
            "prompt_tokens": 1, "completion_tokens": 1}
    full = [{**base, **r} for r in rows]
    pq.write_table(pa.Table.from_pylist(full, schema=arrow_schema_of(LlmAnswer)), directory / "answers" / "a.parquet")
    return directory


def pair(a: str, b: str, relation: str | None, lift: float) -> dict[str, object]:
    body = {"relation": relation, "direction": "none", "confidence": 0.9, "rationale": "r"} if relation else None
    return {"task": "pair", "item_a": a, "item_b": b, "lift": lift, "status": "ok" if body else "failed",
            "answer_json": json.dumps(body) if body else None}


def test_csv_labels_score_only_labelled_pairs_and_the_baseline_uses_lift(tmp_path: Path) -> None:
    extract = write_answers(tmp_path / "x", [pair("A", "B", "complement", 9.0), pair("A", "C", "variant", 8.0),
                                             pair("B", "C", None, 1.0), pair("C", "D", "complement", 0.5)])
    labels = tmp_path / "labels.csv"
    labels.write_text("a,b,label\nB,A,complement\nA,C,variant\nB,C,complement\n")
    pairs, commonsense, complete = load_labels(labels)
    assert commonsense is None and not complete
    scores = {(s.method, s.label): s for s in score_pairs(extract, pairs, complete, baseline_share=0.2)}
    llm = scores[("llm", "complement")]
    assert (llm.predicted, llm.actual, llm.correct) == (1, 2, 1)  # C-D is unlabelled: not scored
    assert scores[("llm", "variant")].precision == 1.0
    baseline = scores[("cooccurrence", "complement")]
    assert (baseline.predicted, baseline.correct) == (1, 1)  # only A-B is in the top fifth by lift


def test_ground_truth_is_complete_and_scores_commonsense(tmp_path: Path) -> None:
    truth = tmp_path / "gt.parquet"
    pl.DataFrame({"head": ["A", "A"], "relation": ["complement", "used_for"], "tail": ["B", "camping trips"],
                  "tail_kind": ["item", "concept"]}).write_parquet(truth)
    fields = {"used_for": "Camping trips.", "used_by": "", "used_in": "", "capable_of": "", "is_a": "",
              "used_with": "", "confidence": 0.5}
    extract = write_answers(tmp_path / "x", [pair("A", "C", "complement", 2.0), {
        "task": "commonsense", "item_a": "A", "item_b": None, "lift": None, "status": "ok",
        "answer_json": json.dumps(fields)}])
    pairs, commonsense, complete = load_labels(truth)
    assert complete and commonsense is not None
    llm = next(s for s in score_pairs(extract, pairs, complete) if s.method == "llm" and s.label == "complement")
    assert (llm.predicted, llm.actual, llm.correct) == (1, 0, 0)  # A-C is not in the truth: unrelated
    used_for = next(s for s in score_commonsense(extract, commonsense) if s.label == "used_for")
    assert (used_for.predicted, used_for.actual, used_for.correct) == (1, 1, 1)


def test_bad_label_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="no such labels file"):
        load_labels(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\nA,B,friends\n")
    with pytest.raises(InputDataError, match="row 2: 'friends'"):
        load_labels(bad)
    (tmp_path / "cols.csv").write_text("x,y\n1,2\n")
    with pytest.raises(InputDataError, match="needs columns a, b, label"):
        load_labels(tmp_path / "cols.csv")
