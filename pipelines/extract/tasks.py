"""What to ask: questions built from the LLM queue and the items table, pre-filter applied.

Runs on the driver: its input is bounded by the LLM budget (the queue), not by the size of
the logs, and the items table is read with a semi-join filter so only queued items are loaded.
Items without a title are not asked about (an LLM cannot know what an id means); they are
counted and named in the log. The pre-filter reads one more column of the whole catalog, the
titles, to learn its title structure (`pipelines.refine.titles`: linear, seconds for 50k).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from kg.arrow_schema import arrow_schema_of
from kg.errors import InputDataError
from kg.schema import AnswerSource, AnswerStatus, ExtractionTask, LlmAnswer, LlmTask
from pipelines.extract.answering import NO_COST
from pipelines.extract.answers import PairAnswer
from pipelines.extract.config import ExtractSection
from pipelines.extract.prefilter import PREFILTER_MODEL, PREFILTER_VERSION
from pipelines.extract.prompts import PROMPTS, cache_key, canonical_json
from pipelines.extract.type_pairs import TYPE_PAIR_SCHEMA, catalog_types, mined_type_pairs, type_pair_tasks
from pipelines.refine.config import ProductTypeRules
from pipelines.refine.titles import TitleModel
from pipelines.refine.variants import VariantDetector, VariantVerdict

log = logging.getLogger("kgrec")

ITEM_TEXT_CHARS = 300


@dataclass
class TaskPlan:
    """The questions for the LLM, the answers the pre-filter already gave, and what was skipped."""

    tasks: pa.Table
    prefiltered: pa.Table
    type_pairs: pl.DataFrame  # the mined type pairs with their statistics (`pipelines.extract.type_pairs`)
    counts: dict[str, int] = field(default_factory=dict)


def _item_view(row: dict[str, Any], with_text: bool) -> dict[str, Any]:
    view: dict[str, Any] = {"title": row["title"], "category": row["category"], "brand": row["brand"]}
    if row.get("price") is not None:
        view["price"] = round(float(row["price"]), 2)
    if with_text and row.get("text"):
        view["text"] = row["text"][:ITEM_TEXT_CHARS]
    return {k: v for k, v in view.items() if v not in (None, "")}


def _queue(candidates_dir: Path, settings: ExtractSection) -> pl.DataFrame:
    """The pairs that may be asked about, in order: the LLM queue, or the pairs of `pairs_path`.

    The queue is bounded by `candidates.llm_budget`; the listed pairs are ranked by score.
    """
    if settings.pairs_path is None:
        queue = pl.scan_parquet(str(candidates_dir / "llm_queue" / "*.parquet")).sort("llm_rank")
    else:
        queue = _listed_pairs(candidates_dir, settings.pairs_path)
    return queue.select("item_a", "item_b", "n_ab", "lift", "first_seen", "last_seen", "llm_rank").collect()


def _listed_pairs(candidates_dir: Path, path: Path) -> pl.LazyFrame:
    """The mined pairs named in the CSV `path` (columns a, b; any order), ranked by score.

    Raises:
        InputDataError: the file is missing or has no a, b columns.
    """
    try:
        listed = pl.read_csv(path, columns=["a", "b"], schema_overrides={"a": pl.String, "b": pl.String})
    except (OSError, pl.exceptions.PolarsError) as e:
        reason = str(e).splitlines()[0][:160]
        raise InputDataError(str(path), f"not a CSV with columns a, b ({reason})") from e
    wanted = listed.select(pl.min_horizontal("a", "b").alias("item_a"),
                           pl.max_horizontal("a", "b").alias("item_b")).unique()
    mined = (pl.scan_parquet(str(candidates_dir / "pairs" / "*.parquet"))
             .join(wanted.lazy(), on=["item_a", "item_b"], how="semi")
             .sort(["score", "item_a", "item_b"], descending=[True, False, False])
             .with_row_index("llm_rank", offset=1).with_columns(pl.col("llm_rank").cast(pl.Int64)))
    found = mined.select(pl.len()).collect().item()
    if found < wanted.height:
        log.warning("extract: %d of the %d pairs in %s were never mined (not in %s/pairs) and are "
                    "not asked", wanted.height - found, wanted.height, path, candidates_dir)
    return mined


def _items(ingest_dir: Path, ids: pl.Series) -> dict[str, dict[str, Any]]:
    items = (pl.scan_parquet(str(ingest_dir / "items" / "*.parquet"))
             .filter(pl.col("item_id").is_in(ids.implode()))
             .filter(pl.col("title").is_not_null() & (pl.col("title").str.strip_chars() != ""))
             .collect())
    return {row["item_id"]: row for row in items.iter_rows(named=True)}


def _title_model(ingest_dir: Path) -> TitleModel:
    """The title structure of every distinct title of the catalog (one streamed column)."""
    titles = (pl.scan_parquet(str(ingest_dir / "items" / "*.parquet")).select(pl.col("title").unique())
              .collect(engine="streaming"))
    model = TitleModel.fit(titles["title"])
    log.info("extract: learned title structure from %d distinct titles (%d tokens, %d shared templates)",
             model.stats.titles, model.stats.vocabulary, model.stats.shared_templates)
    return model


def _ranked_items(queue: pl.DataFrame, limit: int | None) -> list[str]:
    """Items by how many queued pairs hold them, then by their best pair's rank."""
    ends = pl.concat([queue.select(pl.col("item_a").alias("item_id"), "llm_rank"),
                      queue.select(pl.col("item_b").alias("item_id"), "llm_rank")])
    ranked = (ends.group_by("item_id").agg(pl.len().alias("pairs"), pl.col("llm_rank").min())
              .sort(["pairs", "llm_rank", "item_id"], descending=[True, False, False]))
    ids = ranked["item_id"].to_list()
    return ids if limit is None else ids[:limit]


@dataclass
class _PlanRows:
    """What the planning steps accumulate, in the order they produce it."""

    tasks: list[dict[str, Any]] = field(default_factory=list)
    prefiltered: list[dict[str, Any]] = field(default_factory=list)
    untitled: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)


def plan_tasks(candidates_dir: Path, ingest_dir: Path, settings: ExtractSection, model: str,
               types: ProductTypeRules | None = None) -> TaskPlan:
    """Build the question table for `model` and the pre-filter's answers.

    Pair questions come first, in queue (`llm_rank`) order, then for each ranked item its
    commonsense question before its facts question, then the type-pair questions (when `types`
    rules are given and the task is asked; `pipelines.extract.type_pairs`). A task's key is the
    cache key of (model, prompt version, canonical input), so the same question gets the same key
    in every run.
    `max_pairs` is the LLM's budget of pair questions: pairs the pre-filter answers do not count,
    so the budget reaches further down the queue. Queued items without a title are skipped,
    counted and named in a warning. Items are ranked from the pairs walked (the first
    `max_pairs` queued pairs when pairs are not asked about themselves).
    """
    queue = _queue(candidates_dir, settings)
    items = _items(ingest_dir, pl.concat([queue["item_a"], queue["item_b"]]).unique())
    rows = _PlanRows()
    walked = queue.height if settings.max_pairs is None else min(settings.max_pairs, queue.height)
    asks_types = types is not None and LlmTask.TYPE_PAIR in settings.tasks
    prefilters = settings.prefilter and LlmTask.PAIR in settings.tasks
    titles = _title_model(ingest_dir) if asks_types or prefilters else None
    if LlmTask.PAIR in settings.tasks:
        detector = VariantDetector(titles, settings.prefilter_price_ratio) \
            if settings.prefilter and titles is not None else None
        walked = _plan_pairs(queue, items, detector, model, rows, settings.max_pairs)
    queue = queue.head(walked)
    item_tasks = [t for t in (LlmTask.COMMONSENSE, LlmTask.FACTS) if t in settings.tasks]
    if item_tasks:
        _plan_items(_ranked_items(queue, settings.max_items), items, item_tasks, model, rows)
    type_pairs = pl.DataFrame(schema=TYPE_PAIR_SCHEMA)
    if asks_types and titles is not None and types is not None:
        typed = catalog_types(ingest_dir, titles, types)
        type_pairs = mined_type_pairs(candidates_dir, typed)
        rows.tasks += type_pair_tasks(type_pairs, typed, model, settings.max_type_pairs)
        rows.counts |= {"product_types": typed["type_id"].n_unique(), "typed_items": typed.height,
                        "mined_type_pairs": type_pairs.height}
    if rows.untitled:
        log.warning("extract: %d queued items have no title in %s/items and were not asked about "
                    "(e.g. %s)", len(rows.untitled), ingest_dir, ", ".join(sorted(rows.untitled)[:5]))
    return TaskPlan(
        tasks=pa.Table.from_pylist(rows.tasks, schema=arrow_schema_of(ExtractionTask)),
        prefiltered=pa.Table.from_pylist(rows.prefiltered, schema=arrow_schema_of(LlmAnswer)),
        type_pairs=type_pairs,
        counts={"queued_pairs": queue.height, "prefiltered_pairs": len(rows.prefiltered),
                "deepest_queue_rank": int(queue.select(pl.col("llm_rank").max()).item() or 0),
                "items_without_title": len(rows.untitled), **rows.counts},
    )


def _plan_pairs(queue: pl.DataFrame, items: dict[str, dict[str, Any]], detector: VariantDetector | None,
                model: str, rows: _PlanRows, budget: int | None) -> int:
    """One pair question per queued pair with both items titled, unless the pre-filter answers it.

    A pair the `detector` (None: pre-filter off) is confident is a variant becomes a finished
    answer in `rows.prefiltered`; every other pair, whatever the detector thought of it, becomes
    a question for `model` in `rows.tasks`, until `budget` questions are planned (None: no
    limit). Both carry the pair's co-occurrence evidence. Pairs with an untitled item go to
    `rows.untitled` instead. Returns how many queued pairs were walked.
    """
    version = PROMPTS[LlmTask.PAIR].version
    walked = 0
    for pair in queue.iter_rows(named=True):
        if budget is not None and len(rows.tasks) >= budget:
            break
        walked += 1
        a, b = items.get(pair["item_a"]), items.get(pair["item_b"])
        if a is None or b is None:
            rows.untitled.update(i for i, v in ((pair["item_a"], a), (pair["item_b"], b)) if v is None)
            continue
        task_input = {"a": _item_view(a, False), "b": _item_view(b, False)}
        evidence = {k: pair[k] for k in ("item_a", "item_b", "n_ab", "lift", "first_seen", "last_seen")}
        input_json = canonical_json(task_input)
        verdict = detector.verdict(a, b) if detector is not None else None
        if verdict is not None and verdict.is_variant and verdict.confident:
            rows.prefiltered.append(_prefilter_answer(input_json, evidence, _variant(verdict)))
        else:
            rows.tasks.append({"key": cache_key(model, version, input_json), "task": LlmTask.PAIR.value,
                               "input_json": input_json, "model": model, "prompt_version": version,
                               **evidence})
    return walked


def _variant(verdict: VariantVerdict) -> PairAnswer:
    """The pre-filter's answer for a confident variant verdict; the rationale names its signals."""
    return PairAnswer(relation="variant", direction="none", confidence=round(verdict.score, 3),
                      rationale=f"pre-filter: {verdict.reason}"[:300])


def _prefilter_answer(input_json: str, evidence: dict[str, Any], rule: PairAnswer) -> dict[str, Any]:
    """An `LlmAnswer` row for a pair the pre-filter decided: source prefilter, status ok, no cost."""
    return {
        "key": cache_key(PREFILTER_MODEL, PREFILTER_VERSION, input_json),
        "task": LlmTask.PAIR.value, "input_json": input_json, "model": PREFILTER_MODEL,
        "prompt_version": PREFILTER_VERSION, **evidence, "source": AnswerSource.PREFILTER.value,
        "status": AnswerStatus.OK.value, "answer_json": rule.model_dump_json(),
        **NO_COST,
    }


def _plan_items(ranked: list[str], items: dict[str, dict[str, Any]], item_tasks: Sequence[LlmTask],
                model: str, rows: _PlanRows) -> None:
    """For each ranked item with a title, one question per item task, all on the same input.

    The item's view includes its text (cut to `ITEM_TEXT_CHARS`); untitled items go to
    `rows.untitled` instead.
    """
    for item_id in ranked:
        row = items.get(item_id)
        if row is None:
            rows.untitled.add(item_id)
            continue
        input_json = canonical_json({"item": _item_view(row, True)})
        for task in item_tasks:
            version = PROMPTS[task].version
            rows.tasks.append({"key": cache_key(model, version, input_json), "task": task.value,
                               "item_a": item_id, "input_json": input_json, "model": model,
                               "prompt_version": version})
