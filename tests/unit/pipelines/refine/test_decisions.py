"""The refine decision rule: thresholds, the relabelling of variants, untrained kinds and curator precedence."""

import polars as pl

from kg.arrow_schema import arrow_schema_of
from kg.schema import Relation, RelationType, relation_id
from pipelines.refine.critic import KindReport
from pipelines.refine.decisions import CURATOR, DecisionPolicy, decide, usable_scores

POLICY = DecisionPolicy(threshold=0.5, relabel_threshold=0.8, critic_version="critic-abc")


def _relation(head: str, kind: RelationType, tail: str, evidence: str = "k1") -> dict[str, object]:
    return {"id": relation_id(head, kind, tail), "head": head, "type": kind.value, "tail": tail,
            "tail_text": None, "confidence": 0.9, "support": 1, "lift": 3.0, "confidence_ab": None,
            "confidence_ba": None, "first_seen": None,
            "last_seen": None, "model": "llm-x", "prompt_version": "pair.v1", "rationale": "used together",
            "run_id": "r1", "evidence_id": evidence, "decided_by": None, "critic_score": None,
            "decision_threshold": None, "proposed_type": None, "derived_from": None}


def _relations(*rows: dict[str, object]) -> pl.DataFrame:
    frame = pl.from_arrow(pl.DataFrame(list(rows)).to_arrow().cast(arrow_schema_of(Relation)))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _scores(rows: list[tuple[str, str, float | None, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"a": pl.String, "b": pl.String, "critic_complement": pl.Float64,
                                      "critic_variant": pl.Float64}, orient="row")


def _by_id(frame: pl.DataFrame) -> dict[str, dict[str, object]]:
    return {row["id"]: row for row in frame.iter_rows(named=True)}


def test_the_critic_keeps_at_or_above_its_threshold_and_drops_below() -> None:
    relations = _relations(_relation("A", RelationType.COMPLEMENTS, "B"),
                           _relation("C", RelationType.COMPLEMENTS, "D"),
                           _relation("E", RelationType.COMPLEMENTS, "F"))
    decided = decide(relations, _scores([("A", "B", 0.5, 0.1), ("C", "D", 0.49, 0.1), ("E", "F", 0.9, None)]),
                     set(), POLICY)
    kept = _by_id(decided.kept)
    assert set(kept) == {relation_id("A", RelationType.COMPLEMENTS, "B"),
                         relation_id("E", RelationType.COMPLEMENTS, "F")}
    row = kept[relation_id("A", RelationType.COMPLEMENTS, "B")]
    assert (row["decided_by"], row["critic_score"], row["decision_threshold"]) == ("critic-abc", 0.5, 0.5)
    assert decided.dropped["id"].to_list() == [relation_id("C", RelationType.COMPLEMENTS, "D")]
    assert decided.dropped["critic_complement"].to_list() == [0.49]  # dropped rows keep their scores


def test_a_complement_the_critic_calls_a_variant_becomes_one_variant_relation_with_both_opinions() -> None:
    both_ways = _relations(_relation("B", RelationType.COMPLEMENTS, "A"),
                           _relation("A", RelationType.COMPLEMENTS, "B"))
    decided = decide(both_ways, _scores([("A", "B", 0.7, 0.93)]), set(), POLICY)
    assert decided.kept.height == 1 and decided.dropped.is_empty()
    row = decided.kept.row(0, named=True)
    assert row["id"] == relation_id("A", RelationType.VARIANT_OF, "B")
    assert (row["head"], row["type"], row["tail"]) == ("A", "VARIANT_OF", "B")
    assert (row["proposed_type"], row["critic_score"], row["decision_threshold"]) == ("COMPLEMENTS", 0.93, 0.8)
    assert (row["confidence"], row["model"], row["rationale"]) == (0.9, "llm-x", "used together")


def test_below_the_relabel_threshold_a_variant_score_does_not_relabel() -> None:
    decided = decide(_relations(_relation("A", RelationType.COMPLEMENTS, "B")), _scores([("A", "B", 0.7, 0.79)]),
                     set(), POLICY)
    assert decided.kept["type"].to_list() == ["COMPLEMENTS"]
    assert decided.kept["proposed_type"].to_list() == [None]


def test_a_kind_without_a_model_is_kept_as_the_proposer_said() -> None:
    relations = _relations(_relation("A", RelationType.SUBSTITUTES, "B"),
                           _relation("C", RelationType.COMPLEMENTS, "D"))
    decided = decide(relations, _scores([("A", "B", 0.1, 0.2)]), set(), POLICY)  # no critic_substitute
    kept = _by_id(decided.kept)
    substitute = kept[relation_id("A", RelationType.SUBSTITUTES, "B")]
    assert (substitute["decided_by"], substitute["critic_score"], substitute["decision_threshold"]) == (
        "llm-x", None, None)
    unscored = kept[relation_id("C", RelationType.COMPLEMENTS, "D")]  # a pair the critic did not score
    assert unscored["decided_by"] == "llm-x"


def test_without_a_critic_everything_is_kept_as_proposed() -> None:
    relations = _relations(_relation("A", RelationType.COMPLEMENTS, "B"), _relation("A", RelationType.VARIANT_OF, "C"))
    decided = decide(relations, pl.DataFrame(schema={"a": pl.String, "b": pl.String}), set(),
                     DecisionPolicy(threshold=0.5, relabel_threshold=0.8, critic_version=None))
    assert decided.kept["decided_by"].to_list() == ["llm-x", "llm-x"] and decided.dropped.is_empty()


def test_a_curators_decision_is_never_dropped_or_relabelled() -> None:
    accepted = _relation("A", RelationType.COMPLEMENTS, "B")
    rejected = _relation("C", RelationType.COMPLEMENTS, "D")
    decided = decide(_relations(accepted, rejected), _scores([("A", "B", 0.6, 0.99), ("C", "D", 0.01, 0.0)]),
                     {str(accepted["id"]), str(rejected["id"])}, POLICY)
    kept = _by_id(decided.kept)
    assert set(kept) == {accepted["id"], rejected["id"]}
    assert {row["type"] for row in kept.values()} == {"COMPLEMENTS"}
    assert {row["decided_by"] for row in kept.values()} == {CURATOR}
    assert kept[accepted["id"]]["critic_score"] == 0.6  # the critic's opinion is still shown


def test_a_kind_whose_critic_is_no_better_than_chance_out_of_fold_is_not_used() -> None:
    kinds = [KindReport(kind="complement", positives=20, negatives=90, trained=True, precision=0.62, recall=0.3),
             KindReport(kind="substitute", positives=16, negatives=90, trained=True, precision=0.0, recall=0.0),
             KindReport(kind="variant", positives=2, negatives=90, trained=False, reason="few")]
    scores = _scores([("A", "B", 0.9, 0.1)]).with_columns(pl.lit(0.01).alias("critic_substitute"))
    usable = usable_scores(scores, kinds, min_precision=0.5)
    assert usable.columns == ["a", "b", "critic_complement", "critic_variant"]
    decided = decide(_relations(_relation("A", RelationType.SUBSTITUTES, "B")), usable, set(), POLICY)
    assert decided.kept["decided_by"].to_list() == ["llm-x"]  # kept as the proposer said, not dropped at 0.01
