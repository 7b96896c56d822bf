"""`kgrec refine`: mined pairs, LLM answers and items in; the decided graph input out.

Output directory (what `kgrec graph load --in` reads):
  items/       the catalog's items (from the ingest output)
  relations/   part-00000: behavioural CO_PURCHASED from the mined pairs; part-00001: the extracted
               knowledge as decided (`pipelines.refine.decisions`), each relation carrying what
               decided it, the score and the threshold; commonsense relations as extracted
  concepts/    the concepts the commonsense relations point at
  scores/      the critic's scores of every answered pair (when a critic is used)
  dropped/     relations the critic dropped, with their scores (nothing is lost)
  _SUCCESS.json  counts by decision (also in the run manifest)
Every table is rewritten whole, so re-running is safe; the loader counts evidence once.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from kg.arrow_schema import conform
from kg.schema import Concept, Relation
from pipelines.outputs import begin_stage, count_rows, mark_complete, require_complete, write_table
from pipelines.refine.config import RefineSection
from pipelines.refine.critic import Critic
from pipelines.refine.decisions import CURATOR, Decided, DecisionPolicy, decide
from pipelines.refine.graph_input import write_behaviour
from pipelines.refine.labels import RELATION_KINDS
from pipelines.refine.scoring import SimilarityFactory, score_pairs
from pipelines.report import StageReport, Timer

log = logging.getLogger("kgrec")

TABLES = ("items", "relations", "concepts", "scores", "dropped")


@dataclass(frozen=True)
class RefineInputs:
    """The stage outputs refine reads; without `extract` it writes the behavioural graph only."""

    ingest: Path
    candidates: Path
    extract: Path | None = None


def run_refine(section: RefineSection, inputs: RefineInputs, out_dir: Path, run_id: str,
               critic: Critic | None, curated: set[str], similarity: SimilarityFactory | None) -> StageReport:
    """Write the graph input: items, CO_PURCHASED, and the extracted knowledge as decided.

    `critic` is the one to score with (None: every relation is kept as proposed); `curated`
    holds the ids of relations curators decided, which are passed through untouched.

    Raises:
        StageOutputError: an input directory is not a finished stage output.
    """
    timer = Timer()
    require_complete(inputs.ingest, "ingest")
    require_complete(inputs.candidates, "candidates")
    if inputs.extract is not None:
        require_complete(inputs.extract, "extract")
    begin_stage(out_dir, "refine")
    for table in TABLES:
        shutil.rmtree(out_dir / table, ignore_errors=True)
    counts = write_behaviour(inputs.ingest, inputs.candidates, run_id, out_dir)
    details: dict[str, float | int | str] = {"critic": critic.manifest.version if critic else "none"}
    if inputs.extract is not None:
        decided = _decide_knowledge(section, inputs, out_dir, critic, curated, similarity)
        knowledge = _write_knowledge(inputs.extract, decided, out_dir)
        counts = {"items": counts["items"], "relations": counts["relations"] + knowledge["relations"],
                  "concepts": knowledge["concepts"], "dropped": decided.dropped.height}
        details |= _decision_counts(decided)
    report = StageReport(name="refine", rows=counts, wall_s=timer.elapsed(), outputs={"dir": str(out_dir)},
                         details=details)
    mark_complete(out_dir, report.model_dump(mode="json"))
    return report


def _decide_knowledge(section: RefineSection, inputs: RefineInputs, out_dir: Path, critic: Critic | None,
                      curated: set[str], similarity: SimilarityFactory | None) -> Decided:
    """The extracted item-item relations after the decision rule, with the critic's scores."""
    assert inputs.extract is not None
    relations = pl.read_parquet(inputs.extract / "relations")
    item_relations = relations.filter(pl.col("type").is_in(list(RELATION_KINDS)))
    scores = pl.DataFrame(schema={"a": pl.String, "b": pl.String})
    if critic is not None and critic.models:
        items = pl.read_parquet(inputs.ingest / "items")
        mined = pl.read_parquet(inputs.candidates / "llm_queue")
        if score_pairs(inputs.extract / "answers", items, mined, critic, similarity, out_dir / "scores",
                       section.workers, section.batch_size):
            scores = pl.read_parquet(out_dir / "scores")
    elif critic is not None:
        log.warning("refine: %s has no trained kind; every relation is kept as proposed",
                    critic.manifest.version)
    policy = DecisionPolicy(threshold=section.threshold, relabel_threshold=section.relabel_threshold,
                            critic_version=critic.manifest.version if critic else None)
    return decide(item_relations, scores, curated, policy)


def _write_knowledge(extract_dir: Path, decided: Decided, out_dir: Path) -> dict[str, int]:
    """The decided item relations and the commonsense ones into relations/; concepts; dropped/."""
    relations = pl.read_parquet(extract_dir / "relations")
    commonsense = relations.filter(~pl.col("type").is_in(list(RELATION_KINDS)))
    knowledge = pl.concat([decided.kept, commonsense], how="diagonal_relaxed").sort("id", "evidence_id")
    pq.write_table(conform(knowledge.to_arrow(), Relation), out_dir / "relations" / "part-00001.parquet")
    write_table(decided.dropped.to_arrow(), out_dir / "dropped")
    concepts = conform(pq.read_table(extract_dir / "concepts"), Concept)
    write_table(concepts, out_dir / "concepts")
    return {"relations": knowledge.height, "concepts": count_rows(out_dir / "concepts")}


def _decision_counts(decided: Decided) -> dict[str, float | int | str]:
    """How many relations each decider kept, relabelled and dropped (for the manifest)."""
    kept = decided.kept
    return {
        "kept_by_critic": kept.filter(pl.col("decided_by").str.starts_with("critic-")).height,
        "kept_by_curator": kept.filter(pl.col("decided_by") == CURATOR).height,
        "kept_as_proposed": kept.filter(~pl.col("decided_by").str.starts_with("critic-")
                                        & (pl.col("decided_by") != CURATOR)).height,
        "relabelled_variant": kept.filter(pl.col("proposed_type").is_not_null()).height,
        "dropped_by_critic": decided.dropped.height,
    }
