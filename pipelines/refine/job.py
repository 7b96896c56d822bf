"""`kgrec refine`: mined pairs, LLM answers and items in; the decided graph input out.

Output directory (what `kgrec graph load --in` reads):
  items/       the catalog's items (from the ingest output)
  relations/   part-00000: behavioural CO_PURCHASED from the mined pairs; part-00001: the extracted
               knowledge as decided (`pipelines.refine.decisions`), each relation carrying what
               decided it, the score and the threshold; commonsense relations as extracted
               part-00002: the entity layer (`pipelines.refine.entities`): OF_TYPE, the relations
               between product types, and the item complements derived from them
  concepts/    canonical concepts the commonsense relations point at (`pipelines.refine.concepts`),
               and the product types
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
from kg.schema import TYPE_RELATIONS, Concept, Relation, RelationType
from pipelines.outputs import begin_stage, mark_complete, require_complete, write_table
from pipelines.refine.concepts import CanonicalRelations, Embed, canonical_relations
from pipelines.refine.config import RefineSection
from pipelines.refine.critic import Critic
from pipelines.refine.decisions import CURATOR, Decided, DecisionPolicy, decide, usable_scores
from pipelines.refine.entities import EntityInputs, EntityLayer, entity_layer
from pipelines.refine.graph_input import write_behaviour
from pipelines.refine.increment import HELD, keep_changes
from pipelines.refine.labels import RELATION_KINDS
from pipelines.refine.scoring import SimilarityFactory, score_pairs
from pipelines.refine.titles import TitleModel
from pipelines.report import StageReport, Timer

log = logging.getLogger("kgrec")

MINED_COLUMNS = ("item_a", "item_b", "n_ab", "n_a", "n_b", "lift", "npmi", "confidence_ab", "confidence_ba",
                 "first_seen", "last_seen")
TABLES = ("items", "relations", "concepts", "scores", "dropped", "refused_tails", "concept_merges", HELD)


@dataclass(frozen=True)
class RefineContext:
    """What refine decides with besides its inputs: the critic, the graph's state, the text model.

    `critic` None: every relation is kept as proposed. `curated` holds the ids of relations
    curators decided (passed through untouched), `rejected` those they rejected (a rejected
    product-type relation derives nothing); `concepts` the concepts the graph holds (id,
    kind, text: they keep their ids). `similarity` builds the title similarity inside Ray
    workers; `embed` embeds concept tails on the driver.
    """

    critic: Critic | None
    curated: set[str]
    rejected: set[str]  # of `curated`: the relations curators rejected
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
        is_type = pl.col("type").is_in([r.value for r in TYPE_RELATIONS])
        decided = _decide_knowledge(section, inputs, extracted.filter(is_item), out_dir, context)
        commonsense = _canonical_commonsense(section, inputs, extracted.filter(~is_item & ~is_type), context)
        entities = _entities(section, inputs, extracted.filter(is_type), decided, commonsense, context,
                             run_id)
        knowledge = _write_knowledge(decided, commonsense, entities, out_dir)
        counts = {"items": counts["items"], "relations": counts["relations"] + knowledge,
                  "concepts": commonsense.canonical.concepts.height + entities.concepts.height,
                  "dropped": decided.dropped.height, "refused_tails": commonsense.refused.height}
        details |= _decision_counts(decided) | _concept_counts(commonsense) | entities.counts
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


def _entities(section: RefineSection, inputs: RefineInputs, type_relations: pl.DataFrame, decided: Decided,
              commonsense: CanonicalRelations, context: RefineContext, run_id: str) -> EntityLayer:
    """The entity layer (`pipelines.refine.entities`) from this run's items, IS_A and type relations."""
    items = pl.read_parquet(inputs.ingest / "items")
    texts = commonsense.canonical.concepts.select(pl.col("id").alias("tail"), "text")
    is_a = (commonsense.relations.filter(pl.col("type") == RelationType.IS_A.value)
            .join(texts, on="tail").select(pl.col("head").alias("item_id"), "text"))
    judged = pl.concat([decided.kept, decided.dropped], how="diagonal_relaxed").select(
        pl.min_horizontal("head", "tail").alias("a"), pl.max_horizontal("head", "tail").alias("b")).unique()
    mined = pl.read_parquet(inputs.candidates / "pairs", columns=list(MINED_COLUMNS))
    critic = context.critic
    complement = next((k for k in critic.manifest.kinds if k.kind == "complement"), None) if critic else None
    usable = (complement is not None and complement.trained
              and (complement.precision or 0.0) >= section.min_precision)
    entity_inputs = EntityInputs(items=items, is_a=is_a, type_relations=type_relations, mined=mined,
                                 judged=set(judged.iter_rows()), rejected=context.rejected,
                                 existing=context.concepts)
    return entity_layer(entity_inputs, section.types, TitleModel.fit(items["title"].to_list()), context.embed,
                        section.concept_similarity, critic if usable else None, run_id)


def _write_knowledge(decided: Decided, commonsense: CanonicalRelations, entities: EntityLayer,
                     out_dir: Path) -> int:
    """Write the decided item relations, commonsense and entity layer, and the side tables; rows written."""
    knowledge = pl.concat([decided.kept, commonsense.relations], how="diagonal_relaxed").sort(
        "id", "evidence_id")
    pq.write_table(conform(knowledge.to_arrow(), Relation), out_dir / "relations" / "part-00001.parquet")
    layer = entities.relations.sort("id", "evidence_id") if entities.relations.height else entities.relations
    pq.write_table(conform(layer.to_arrow(), Relation), out_dir / "relations" / "part-00002.parquet")
    write_table(decided.dropped.to_arrow(), out_dir / "dropped")
    write_table(commonsense.refused.to_arrow(), out_dir / "refused_tails")
    write_table(commonsense.canonical.merges.to_arrow(), out_dir / "concept_merges")
    concepts = pl.concat([commonsense.canonical.concepts, entities.concepts], how="diagonal_relaxed")
    write_table(conform(concepts.to_arrow(), Concept), out_dir / "concepts")
    return knowledge.height + layer.height


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
