"""`kgrec refine`: mined pairs, LLM answers and items in; the decided graph input out.

Output directory (what `kgrec graph load --in` reads):
  items/       the catalog's items (from the ingest output)
  relations/   part-00000: behavioural CO_PURCHASED from the mined pairs; part-00001: the extracted
               knowledge as decided (`pipelines.refine.decisions`), each relation carrying what
               decided it, the score and the threshold; commonsense relations as extracted
  concepts/    canonical concepts the commonsense relations point at (`pipelines.refine.concepts`)
  refused_tails/   commonsense relations whose tail is not a concept, with the reason
  concept_merges/  new tails that joined a concept the graph already holds, with their similarity
  scores/      the critic's scores of every answered pair (when a critic is used)
  dropped/     relations the critic dropped, with their scores (nothing is lost)
  held/        every relation the graph holds once this output is loaded, with cumulative values;
               with `previous` (an increment), relations/ keeps only what changed since it
               (`pipelines.refine.increment`)
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
from pipelines.outputs import begin_stage, mark_complete, require_complete, write_table
from pipelines.refine.concepts import CanonicalRelations, Embed, canonical_relations
from pipelines.refine.config import RefineSection
from pipelines.refine.critic import Critic
from pipelines.refine.decisions import CURATOR, Decided, DecisionPolicy, decide, usable_scores
from pipelines.refine.graph_input import write_behaviour
from pipelines.refine.increment import HELD, keep_changes
from pipelines.refine.labels import RELATION_KINDS
from pipelines.refine.scoring import SimilarityFactory, score_pairs
from pipelines.report import StageReport, Timer

log = logging.getLogger("kgrec")

TABLES = ("items", "relations", "concepts", "scores", "dropped", "refused_tails", "concept_merges", HELD)


@dataclass(frozen=True)
class RefineContext:
    """What refine decides with besides its inputs: the critic, the graph's state, the text model.

    `critic` None: every relation is kept as proposed. `curated` holds the ids of relations
    curators decided (passed through untouched); `concepts` the concepts the graph holds (id,
    kind, text: they keep their ids). `similarity` builds the title similarity inside Ray
    workers; `embed` embeds concept tails on the driver.
    """

    critic: Critic | None
    curated: set[str]
    concepts: pl.DataFrame
    similarity: SimilarityFactory | None
    embed: Embed


@dataclass(frozen=True)
class RefineInputs:
    """The stage outputs refine reads; without `extract` it writes the behavioural graph only."""

    ingest: Path
    candidates: Path
    extract: Path | None = None
    previous: Path | None = None  # the refine output the graph was last loaded from (an increment)


def run_refine(section: RefineSection, inputs: RefineInputs, out_dir: Path, run_id: str,
               context: RefineContext) -> StageReport:
    """Write the graph input: items, CO_PURCHASED, and the extracted knowledge as decided.

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
    critic = context.critic
    details: dict[str, float | int | str] = {"critic": critic.manifest.version if critic else "none"}
    if inputs.extract is not None:
        extracted = pl.read_parquet(inputs.extract / "relations")
        is_item = pl.col("type").is_in(list(RELATION_KINDS))
        decided = _decide_knowledge(section, inputs, extracted.filter(is_item), out_dir, context)
        commonsense = _canonical_commonsense(section, inputs, extracted.filter(~is_item), context)
        knowledge = _write_knowledge(decided, commonsense, out_dir)
        counts = {"items": counts["items"], "relations": counts["relations"] + knowledge,
                  "concepts": commonsense.canonical.concepts.height, "dropped": decided.dropped.height,
                  "refused_tails": commonsense.refused.height}
        details |= _decision_counts(decided) | _concept_counts(commonsense)
    counts |= keep_changes(out_dir, inputs.previous)
    report = StageReport(name="refine", rows=counts, wall_s=timer.elapsed(), outputs={"dir": str(out_dir)},
                         details=details)
    mark_complete(out_dir, report.model_dump(mode="json"))
    return report


def _decide_knowledge(section: RefineSection, inputs: RefineInputs, item_relations: pl.DataFrame,
                      out_dir: Path, context: RefineContext) -> Decided:
    """The extracted item-item relations after the decision rule, with the critic's scores."""
    assert inputs.extract is not None
    critic = context.critic
    scores = pl.DataFrame(schema={"a": pl.String, "b": pl.String})
    if critic is not None and critic.models:
        items = pl.read_parquet(inputs.ingest / "items")
        mined = pl.read_parquet(inputs.candidates / "llm_queue")
        if score_pairs(inputs.extract / "answers", items, mined, critic, context.similarity,
                       out_dir / "scores", section.workers, section.batch_size):
            scores = usable_scores(pl.read_parquet(out_dir / "scores"), critic.manifest.kinds,
                                   section.min_precision)
        weak = [k.kind for k in critic.manifest.kinds
                if k.trained and f"critic_{k.kind}" not in scores.columns]
        if weak and scores.height:
            log.warning("refine: %s's %s model(s) fall below refine.min_precision %.2f out of fold; their "
                        "relations are kept as proposed", critic.manifest.version, ", ".join(weak),
                        section.min_precision)
    elif critic is not None:
        log.warning("refine: %s has no trained kind; every relation is kept as proposed",
                    critic.manifest.version)
    policy = DecisionPolicy(threshold=section.threshold, relabel_threshold=section.relabel_threshold,
                            critic_version=critic.manifest.version if critic else None)
    return decide(item_relations, scores, context.curated, policy)


def _canonical_commonsense(section: RefineSection, inputs: RefineInputs, relations: pl.DataFrame,
                           context: RefineContext) -> CanonicalRelations:
    """The extracted commonsense relations filtered and pointed at canonical concepts."""
    titles = pl.read_parquet(inputs.ingest / "items", columns=["item_id", "title"])
    return canonical_relations(relations, titles, context.concepts, context.embed, section.concept_similarity)


def _write_knowledge(decided: Decided, commonsense: CanonicalRelations, out_dir: Path) -> int:
    """Decided item relations and canonical commonsense ones into relations/; the side tables; rows."""
    knowledge = pl.concat([decided.kept, commonsense.relations], how="diagonal_relaxed").sort(
        "id", "evidence_id")
    pq.write_table(conform(knowledge.to_arrow(), Relation), out_dir / "relations" / "part-00001.parquet")
    write_table(decided.dropped.to_arrow(), out_dir / "dropped")
    write_table(commonsense.refused.to_arrow(), out_dir / "refused_tails")
    write_table(commonsense.canonical.merges.to_arrow(), out_dir / "concept_merges")
    write_table(conform(commonsense.canonical.concepts.to_arrow(), Concept), out_dir / "concepts")
    return knowledge.height


def _concept_counts(commonsense: CanonicalRelations) -> dict[str, float | int | str]:
    """Tails before and after canonicalization, refusals by reason, merges into existing concepts."""
    mapping = commonsense.canonical.mapping
    refused = commonsense.refused.group_by("reason").len().iter_rows()
    return {"concept_tails": mapping.height, "concepts": commonsense.canonical.concepts.height,
            "concept_merges": commonsense.canonical.merges.height,
            **{f"refused_tails: {reason}": int(n) for reason, n in refused}}


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
