"""Concept tails: refusals with reasons, leader clustering that does not chain, ids stable across runs."""

import numpy as np
import polars as pl
import pytest

from pipelines.refine.concepts import canonical_relations, canonicalize, refuse_reason

CUT = "making pictures from a camera that has been designed for taking pictures. this ["


@pytest.mark.parametrize(("phrase", "title", "reason"), [
    ("", None, "empty"),
    (" . ", None, "empty"),
    (CUT, None, "cut off"),
    ("a lantern for the", None, "cut off"),
    ("used (mostly outdoors", None, "cut off"),
    ("x" * 79, None, "cut off"),
    ("lighting up a tent on a long dark night in the woods", None, "too long"),
    ("ironbark,large.jpg", None, "not a phrase"),
    ("see https://example.com", None, "not a phrase"),
    ("#### 12 ## 34", None, "not a phrase"),
    ("Ironbark, medium", "IRONBARK Trail Lantern, Medium", "repeats the title"),
    ("camping", "IRONBARK Trail Lantern, Medium", None),
    ("making photos with the use of a camera", None, None),
])
def test_tails_are_refused_with_a_reason(phrase: str, title: str | None, reason: str | None) -> None:
    assert refuse_reason(phrase, title) == reason


def _embed(vectors: dict[str, list[float]]):  # type: ignore[no-untyped-def]
    def embed(texts: list[str]) -> np.ndarray:
        rows = np.array([vectors[t] for t in texts], dtype=np.float64)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return embed


def _tails(*rows: tuple[str, str, int]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"kind": pl.String, "text": pl.String, "mentions": pl.Int64}, orient="row")


NO_CONCEPTS = pl.DataFrame(schema={"id": pl.String, "kind": pl.String, "text": pl.String})


def test_a_chain_of_weak_links_does_not_merge_its_ends() -> None:
    # a~b (cos 0.87) and b~c (0.87), but a and c are far apart (0.50): c must not join a's cluster
    angle = np.deg2rad(30)
    vectors = {"a": [1.0, 0.0], "b": [float(np.cos(angle)), float(np.sin(angle))],
               "c": [float(np.cos(2 * angle)), float(np.sin(2 * angle))]}
    result = canonicalize(_tails(("function", "a", 3), ("function", "b", 2), ("function", "c", 1)),
                          NO_CONCEPTS, _embed(vectors), threshold=0.85)
    ids = dict(zip(result.mapping["text"], result.mapping["concept_id"], strict=True))
    assert ids == {"a": "function:a", "b": "function:a", "c": "function:c"}
    assert result.concepts.filter(pl.col("id") == "function:a")["aliases"].to_list() == [["b"]]


def test_the_most_mentioned_phrasing_names_the_concept_and_kinds_never_mix() -> None:
    vectors = {"taking photos": [1.0, 0.05], "taking pictures": [1.0, 0.0], "camera": [1.0, 0.01]}
    result = canonicalize(_tails(("function", "taking pictures", 1), ("function", "taking photos", 4),
                                 ("companion", "camera", 1)), NO_CONCEPTS, _embed(vectors), threshold=0.85)
    ids = dict(zip(result.mapping["text"], result.mapping["concept_id"], strict=True))
    assert ids == {"taking photos": "function:taking photos", "taking pictures": "function:taking photos",
                   "camera": "companion:camera"}


def test_an_existing_concept_keeps_its_id_and_a_new_paraphrase_joins_it_as_a_recorded_merge() -> None:
    vectors = {"taking photos": [1.0, 0.0], "taking pictures": [1.0, 0.05], "hiking": [0.0, 1.0]}
    existing = pl.DataFrame({"id": ["function:taking photos"], "kind": ["function"], "text": ["taking photos"]})
    result = canonicalize(_tails(("function", "taking pictures", 9), ("function", "hiking", 1)), existing,
                          _embed(vectors), threshold=0.85)
    ids = dict(zip(result.mapping["text"], result.mapping["concept_id"], strict=True))
    assert ids == {"taking pictures": "function:taking photos", "hiking": "function:hiking"}
    assert result.merges.select("text", "concept_id").rows() == [("taking pictures", "function:taking photos")]
    assert result.concepts.filter(pl.col("id") == "function:taking photos")["text"].to_list() == ["taking photos"]


def test_no_tails_give_no_concepts() -> None:
    result = canonicalize(_tails(), NO_CONCEPTS, _embed({}), threshold=0.85)
    assert result.mapping.is_empty() and result.concepts.is_empty() and result.merges.is_empty()


def _relation(head: str, kind: str, text: str, evidence: str) -> dict[str, object]:
    from kg.schema import RelationType, concept_id, relation_id

    tail = concept_id(kind, text)
    return {"id": relation_id(head, RelationType.USED_FOR, tail), "head": head, "type": "USED_FOR", "tail": tail,
            "tail_text": text, "confidence": 0.6, "support": 1, "evidence_id": evidence}


def test_relations_point_at_the_canonical_concept_and_refused_tails_are_set_aside() -> None:
    from kg.schema import RelationType, relation_id

    vectors = {"taking photos": [1.0, 0.0], "taking pictures": [1.0, 0.05]}
    relations = pl.DataFrame([_relation("p1", "function", "taking photos", "k1"),
                              _relation("p2", "function", "taking photos", "k2"),
                              _relation("p3", "function", "taking pictures", "k3"),
                              _relation("p3", "function", "trail lantern", "k4")])
    titles = pl.DataFrame({"item_id": ["p1", "p2", "p3"], "title": ["Cam A", "Cam B", "Trail Lantern"]})
    result = canonical_relations(relations, titles, NO_CONCEPTS, _embed(vectors), threshold=0.85)
    assert result.relations.columns == relations.columns
    assert set(result.relations["tail"]) == {"function:taking photos"}
    assert relation_id("p3", RelationType.USED_FOR, "function:taking photos") in result.relations["id"].to_list()
    assert result.refused.select("tail_text", "reason").rows() == [("trail lantern", "repeats the title")]
    assert result.canonical.concepts.rows() == [("function:taking photos", "taking photos", "function",
                                                 ["taking pictures"])]
