"""Concept clustering with the real text model on a hand-written paraphrase set.

The groups are paraphrases we wrote ourselves; the traps are related but distinct concepts the
threshold must keep apart (a room and another room, a hobby and its tool).
"""

from pathlib import Path

import polars as pl

from pipelines.refine.concepts import canonicalize
from pipelines.refine.config import RefineSection
from pipelines.steps.refine import text_embedder

PARAPHRASES = [
    ["taking photos", "taking pictures"],
    ["gardening tools", "garden tools"],
    ["kids", "children"],
    ["making pictures from a camera", "making photos with the use of a camera"],
]
DISTINCT = [["living room"], ["bedroom"], ["photography"], ["camera"], ["tea"], ["coffee"], ["camping"],
            ["hiking"]]


def test_paraphrases_merge_and_related_concepts_stay_apart(tmp_path: Path) -> None:
    groups = PARAPHRASES + DISTINCT
    tails = pl.DataFrame({"kind": "function", "text": [t for g in groups for t in g],
                          "mentions": [len(g) - i for g in groups for i in range(len(g))]})
    result = canonicalize(tails, pl.DataFrame(schema={"id": pl.String, "kind": pl.String, "text": pl.String}),
                          text_embedder(tmp_path / "text"), RefineSection().concept_similarity)
    ids = dict(zip(result.mapping["text"], result.mapping["concept_id"], strict=True))
    for group in groups:
        assert {ids[t] for t in group} == {f"function:{group[0]}"}, group
    assert result.concepts.height == len(groups)
