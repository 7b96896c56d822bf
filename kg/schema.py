"""The shared vocabulary: canonical tables every stage reads and writes.

The pydantic models here are the one definition of each table. Arrow/Parquet schemas are
derived from them (`kg.arrow_schema.arrow_schema_of`) and `docs/data-model.md` documents
them field by field (a unit test keeps the two in step). Times are timezone-aware UTC;
on disk they are Arrow `timestamp[ms, UTC]`.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


def now_ms() -> int:
    """Wall-clock time as epoch milliseconds: the time format both graph dialects share."""
    return int(time.time() * 1000)


class KgrecModel(BaseModel):
    """Base for every boundary model: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EventType(StrEnum):
    """Kinds of user behaviour the canonical events table holds."""

    VIEW = "view"
    CLICK = "click"
    ADD_TO_CART = "add_to_cart"
    PURCHASE = "purchase"
    RATING = "rating"
    REVIEW = "review"


class Event(KgrecModel):
    """One user-item interaction (table `events`)."""

    user_id: str = Field(description="Stable user identifier from the source.")
    item_id: str = Field(description="Item identifier; matches `items.item_id`.")
    event_type: EventType = Field(description="What the user did (see EventType).")
    ts: datetime = Field(description="When it happened, UTC, millisecond precision.")
    session_id: str | None = Field(
        default=None, description="Session or basket (e.g. invoice) the event belongs to."
    )
    query: str | None = Field(
        default=None, description="Search query that led to this event, when there was one."
    )


class Item(KgrecModel):
    """One catalog entry (table `items`); what a source lacks is null."""

    item_id: str = Field(description="Item identifier, unique in the table.")
    title: str | None = Field(default=None, description="Short product title.")
    text: str | None = Field(default=None, description="Longer description text.")
    category: str | None = Field(default=None, description="Category path, ' > '-separated.")
    brand: str | None = Field(default=None, description="Brand or maker.")
    price: float | None = Field(default=None, description="Typical unit price, source currency.")


class QuarantinedRow(KgrecModel):
    """A source row (or a whole unreadable file) that could not become a canonical row."""

    source: str = Field(description="Path or URI of the file the row came from.")
    row_number: int | None = Field(
        default=None, description="0-based row (or line) number within the source file, if known."
    )
    table: str = Field(description="Canonical table the row was meant for: events or items.")
    reason: str = Field(description="Why the row was set aside, e.g. 'unparseable ts'.")
    raw: str = Field(description="The raw row as JSON text, so nothing is lost.")


class LinkKind(StrEnum):
    """Kinds of catalog link between two items, named for what the source's lists mean.

    Amazon's product pages list other products per kind; both releases of McAuley's data are
    read into these names: 2018 `also_buy` and 2014 `also_bought` are `also_bought`, 2018
    `also_view` and 2014 `also_viewed` are `also_viewed`; 2014 `bought_together` and
    `buy_after_viewing` keep their meaning as `bought_together` and `bought_after_viewing`.
    """

    ALSO_BOUGHT = "also_bought"
    ALSO_VIEWED = "also_viewed"
    BOUGHT_TOGETHER = "bought_together"
    BOUGHT_AFTER_VIEWING = "bought_after_viewing"


class Link(KgrecModel):
    """A catalog's own statement that item `a` lists item `b` (table `links`); directed."""

    a: str = Field(description="Item id of the product whose list names `b`.")
    b: str = Field(description="Item id listed; a link to an item the items table lacks is not kept.")
    kind: LinkKind = Field(description="Which list: also_bought, also_viewed, bought_together or "
                           "bought_after_viewing (see LinkKind).")


class ItemPair(KgrecModel):
    """Behavioural evidence that two items go together (table `candidates/pairs`).

    Pairs are unordered: `item_a < item_b`. Counts are of baskets (sessions, invoices or
    user time windows, per config), each item counted once per basket.
    """

    item_a: str = Field(description="The lexicographically smaller item id.")
    item_b: str = Field(description="The larger item id.")
    n_ab: int = Field(description="Baskets holding both items.")
    n_a: int = Field(description="Baskets holding item_a.")
    n_b: int = Field(description="Baskets holding item_b.")
    n_baskets: int = Field(description="All baskets in the input (the support denominator).")
    support: float = Field(description="n_ab / n_baskets.")
    confidence_ab: float = Field(description="P(b | a) = n_ab / n_a.")
    confidence_ba: float = Field(description="P(a | b) = n_ab / n_b.")
    lift: float = Field(description="n_ab * n_baskets / (n_a * n_b); 1 means independent.")
    pmi: float = Field(description="ln(lift): pointwise mutual information in nats.")
    npmi: float = Field(description="pmi / -ln(support), in [-1, 1]; 1 means always together.")
    score: float = Field(
        description="Ranking score for the LLM budget: npmi * n_ab / (n_ab + shrinkage)."
    )
    rank_a: int = Field(description="Rank of this pair by score among item_a's pairs (1 = best).")
    rank_b: int = Field(description="Rank of this pair by score among item_b's pairs (1 = best).")
    first_seen: datetime = Field(description="Earliest basket holding both items.")
    last_seen: datetime = Field(description="Latest basket holding both items.")


class LlmQueueEntry(ItemPair):
    """A pair selected for the LLM stage under the global budget (table `candidates/llm_queue`)."""

    llm_rank: int = Field(description="Global rank by score (1 = asked first).")


class QueryItemPair(KgrecModel):
    """Evidence that a search query leads to an item (table `candidates/query_items`)."""

    query: str = Field(description="Normalized query text (lower-case, single spaces).")
    item_id: str = Field(description="Item the query led to.")
    n_qi: int = Field(description="Events with this query on this item.")
    n_q: int = Field(description="Events with this query.")
    n_i: int = Field(description="Query-led events on this item.")
    n_events: int = Field(description="All query-led events (the lift denominator).")
    confidence: float = Field(description="P(item | query) = n_qi / n_q.")
    lift: float = Field(description="n_qi * n_events / (n_q * n_i).")
    rank: int = Field(description="Rank of the item among the query's items by n_qi (1 = best).")
    first_seen: datetime = Field(description="Earliest such event.")
    last_seen: datetime = Field(description="Latest such event.")


class GroundTruthRelation(KgrecModel):
    """A relation the synthetic generator built into the data, for scoring later stages."""

    head: str = Field(description="Item id.")
    relation: str = Field(
        description="complement, substitute, variant_of, used_for, used_by, used_in, "
        "capable_of or is_a."
    )
    tail: str = Field(description="Item id (item-item relations) or concept text.")
    tail_kind: str = Field(description="'item' or 'concept'.")


TABLE_MODELS: dict[str, type[KgrecModel]] = {
    "events": Event,
    "items": Item,
    "quarantine": QuarantinedRow,
    "links": Link,
    "pairs": ItemPair,
    "llm_queue": LlmQueueEntry,
    "query_items": QueryItemPair,
    "ground_truth": GroundTruthRelation,
}


class RelationType(StrEnum):
    """Edge types of the knowledge graph (also the Cypher relationship types)."""

    COMPLEMENTS = "COMPLEMENTS"
    SUBSTITUTES = "SUBSTITUTES"
    VARIANT_OF = "VARIANT_OF"
    CO_PURCHASED = "CO_PURCHASED"
    USED_FOR = "USED_FOR"
    USED_BY = "USED_BY"
    USED_IN = "USED_IN"
    CAPABLE_OF = "CAPABLE_OF"
    IS_A = "IS_A"
    USED_WITH = "USED_WITH"
    OF_TYPE = "OF_TYPE"  # item -> its product type (a `Concept` of kind `product_type`)
    TYPE_COMPLEMENTS = "TYPE_COMPLEMENTS"  # product type -> product type: used together
    TYPE_SUBSTITUTES = "TYPE_SUBSTITUTES"  # product type -> product type: one replaces the other


ITEM_RELATIONS = frozenset({RelationType.COMPLEMENTS, RelationType.SUBSTITUTES,
                            RelationType.VARIANT_OF, RelationType.CO_PURCHASED})
# Item-item relations without a direction: stored once, head < tail.
SYMMETRIC_RELATIONS = frozenset({RelationType.SUBSTITUTES, RelationType.VARIANT_OF,
                                 RelationType.CO_PURCHASED, RelationType.TYPE_SUBSTITUTES})
# Relations between two product types (the entity layer, LLM-KERec): both ends are `Concept` nodes
# of kind `PRODUCT_TYPE`; every other relation starts at an item.
TYPE_RELATIONS = frozenset({RelationType.TYPE_COMPLEMENTS, RelationType.TYPE_SUBSTITUTES})
PRODUCT_TYPE = "product_type"  # the concept kind of product types (their nodes also carry `ProductType`)


class CurationStatus(StrEnum):
    """Where a relation stands with curators. Only curators move it off `proposed`."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    # a derived item relation whose product-type relation a curator rejected (`Relation.derived_from`);
    # it returns to `proposed` if a curator accepts that type relation again
    WITHDRAWN = "withdrawn"


class DatasetMark(KgrecModel):
    """Which data a graph holds: a `Dataset` node that the first run or load of a dataset leaves.

    One graph per dataset keeps two datasets' items and relations from mixing in one snapshot;
    the mark is how a run finds out what a graph holds before it writes (`GraphStore.claim`).
    """

    key: str = Field(description="Stable id of the dataset (also its graph's default name).")
    description: str = Field(description="What the data is, for people: source, paths or seed.")


class SnapshotTime(StrEnum):
    """Which clock a graph snapshot at T reads (kg.snapshot.write_snapshot)."""

    LOADED_AND_EVIDENCE = "loaded_and_evidence"  # what the graph held at T: loaded by T, evidence by T
    EVIDENCE = "evidence"  # backfills: evidence by T, whenever it was loaded


class Relation(KgrecModel):
    """One relation to load (table `relations`): evidence and provenance, no curation state.

    The store adds `status`, `status_by`, `status_at`, `created_at` and `updated_at`; a load
    never writes those after creation, so a curator's decision survives every re-run.
    """

    id: str = Field(description="Deterministic: relation_id(head, type, tail).")
    head: str = Field(description="Item id.")
    type: RelationType = Field(description="Relation type (Cypher relationship type).")
    tail: str = Field(description="Item id, or concept id for commonsense relations.")
    tail_text: str | None = Field(
        default=None, description="Concept relations: the tail as the extractor phrased it."
    )
    confidence: float = Field(ge=0.0, le=1.0, description="Extractor's (or statistic's) confidence.")
    support: int = Field(ge=0, description="Baskets (or mentions) of evidence in this batch.")
    lift: float | None = Field(default=None, description="Co-occurrence lift, when behavioural.")
    confidence_ab: float | None = Field(default=None, ge=0.0, le=1.0, description="Behavioural: P(tail | "
                                        "head), the share of the head's baskets that hold the tail.")
    confidence_ba: float | None = Field(default=None, ge=0.0, le=1.0, description="Behavioural: P(head | "
                                        "tail), the share of the tail's baskets that hold the head.")
    first_seen: datetime | None = Field(default=None, description="Earliest evidence, UTC.")
    last_seen: datetime | None = Field(default=None, description="Latest evidence, UTC.")
    model: str = Field(description="Model or method that proposed it, e.g. 'cooccurrence'.")
    prompt_version: str = Field(description="Prompt version, or 'n/a' for statistics.")
    rationale: str | None = Field(default=None, description="Why, in the proposer's words.")
    run_id: str = Field(description="Run that produced this batch of evidence.")
    evidence_id: str = Field(
        description="Identifies the evidence this row carries (e.g. a content hash of the mined "
        "pairs). The same evidence loaded again, by any run, is counted once."
    )
    decided_by: str | None = Field(
        default=None, description="What decided the relation in `kgrec refine`: a critic version "
        "('critic-<hash>'), 'curator' (a curator's decision, never overridden), or the proposer's own "
        "model or rule when no critic judges its kind; null for behavioural relations."
    )
    critic_score: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="The critic's probability that the pair is of this relation's kind, when scored.")
    decision_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="The score at or above which the decider keeps (or relabels into) this type.")
    proposed_type: str | None = Field(
        default=None, description="The type the proposer stated when `kgrec refine` relabelled it "
        "(an LLM's COMPLEMENTS the critic calls a variant becomes VARIANT_OF); null when kept as proposed."
    )
    derived_from: str | None = Field(
        default=None, description="For an item relation derived from a product-type relation (the entity "
        "layer): that TYPE_COMPLEMENTS relation's id. Rejecting it withdraws every relation derived from it."
    )


class Concept(KgrecModel):
    """A canonical commonsense concept (node `Concept`)."""

    id: str = Field(description="Canonical id: kind + ':' + normalized text.")
    text: str = Field(description="Canonical text.")
    kind: str = Field(description="function, audience, location, capability, category, ...")
    aliases: list[str] = Field(default_factory=list, description="Other phrasings merged into it.")


def relation_id(head: str, relation: RelationType, tail: str) -> str:
    """Stable id of (head, type, tail): the same triple always gets the same id.

    The id starts with the type (`COMPLEMENTS:3fa2...`), so a curator's id alone finds the
    relation through the per-type index. Symmetric types are ordered first, so (a, b) and
    (b, a) are one relation.
    """
    if relation in SYMMETRIC_RELATIONS and tail < head:
        head, tail = tail, head
    digest = hashlib.sha256(f"{head}\x1f{relation.value}\x1f{tail}".encode()).hexdigest()
    return f"{relation.value}:{digest[:24]}"


def relation_type_of(relation_id_: str) -> RelationType:
    """The type encoded in a relation id; ValueError names the id when it has none."""
    prefix = relation_id_.split(":", 1)[0]
    try:
        return RelationType(prefix)
    except ValueError as e:
        raise ValueError(f"{relation_id_!r} is not a relation id (no known type prefix)") from e


PHRASE_TRIM = " \t\n,.;:!-\"'"  # what an LLM's phrase may start or end with that is no part of it


def concept_text(text: str) -> str:
    """A tail phrase as a concept's text: trimmed, lower-cased, single-spaced."""
    return " ".join(text.strip(PHRASE_TRIM).lower().split())


def concept_id(kind: str, text: str) -> str:
    """Canonical concept id: kind and lower-cased, single-spaced text."""
    return f"{kind}:{' '.join(text.lower().split())}"


class LlmTask(StrEnum):
    """The questions the extraction stage asks (one small question per prompt)."""

    PAIR = "pair"
    COMMONSENSE = "commonsense"
    FACTS = "facts"
    TYPE_PAIR = "type_pair"  # two product types (the entity layer): used together, replaceable, neither


class AnswerSource(StrEnum):
    """Where an answer came from."""

    LLM = "llm"
    CACHE = "cache"
    PREFILTER = "prefilter"


class AnswerStatus(StrEnum):
    """Whether an answer parsed and validated."""

    OK = "ok"
    FAILED = "failed"


class ExtractionTask(KgrecModel):
    """One question for the LLM (table `extract/tasks`), with the evidence it came from."""

    key: str = Field(description="Cache key: sha256 of (model, prompt version, input_json).")
    task: LlmTask = Field(description="Which question: pair, commonsense or facts.")
    item_a: str = Field(description="The item asked about (pairs: the smaller id; type pairs: the smaller "
                        "product type id).")
    item_b: str | None = Field(default=None, description="Pairs: the other item (or type); null otherwise.")
    input_json: str = Field(description="The prompt's variable part as canonical JSON (titles, ...).")
    n_ab: int | None = Field(default=None, description="Pairs: baskets holding both items (type pairs: "
                             "summed over their mined item pairs).")
    lift: float | None = Field(default=None, description="Pairs: co-occurrence lift.")
    first_seen: datetime | None = Field(default=None, description="Pairs: earliest basket with both.")
    last_seen: datetime | None = Field(default=None, description="Pairs: latest basket with both.")
    model: str = Field(description="Model asked (or the pre-filter rule that answered).")
    prompt_version: str = Field(description="Prompt name, major version and content digest.")


class LlmAnswer(ExtractionTask):
    """A question with its answer (tables `extract/answers` and, failed ones, `extract/failures`)."""

    source: AnswerSource = Field(description="llm (asked in this run), cache or prefilter.")
    status: AnswerStatus = Field(description="ok: a validated answer; failed: see reason and raw.")
    answer_json: str | None = Field(default=None, description="The validated answer as JSON.")
    reason: str | None = Field(default=None, description="Failures: why (malformed JSON, timeout, ...).")
    raw: str | None = Field(default=None, description="Failures: the last raw reply (capped at 20k chars).")
    requests: int = Field(description="HTTP or engine requests this run made for it (0 if cached).")
    attempts: int = Field(description="Answers generated for it, valid or not, when it was asked.")
    prompt_tokens: int = Field(description="Prompt tokens this run spent on it.")
    completion_tokens: int = Field(description="Completion tokens this run spent on it.")


class ItemFacts(KgrecModel):
    """KAR-style factual text about an item, for the embedding stage (table `extract/facts`)."""

    item_id: str = Field(description="The item.")
    facts: str = Field(description="Short factual sentences the model wrote.")
    model: str = Field(description="Model that wrote them.")
    prompt_version: str = Field(description="Prompt version.")
    key: str = Field(description="Cache key of the answer (its evidence id).")


TABLE_MODELS["relations"] = Relation
TABLE_MODELS["extract_tasks"] = ExtractionTask
TABLE_MODELS["extract_answers"] = LlmAnswer
TABLE_MODELS["facts"] = ItemFacts
