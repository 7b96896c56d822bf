"""What to ask: questions built from the LLM queue and the items table, pre-filter applied.

Runs on the driver: its input is bounded by the LLM budget (the queue), not by the size of
the logs, and the items table is read with a semi-join filter so only queued items are loaded.
Items without a title are not asked about (an LLM cannot know what an id means); they are
counted and named in the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from kg.arrow_schema import arrow_schema_of
from kg.schema import AnswerSource, AnswerStatus, ExtractionTask, LlmAnswer, LlmTask
from pipelines.config import ExtractSection
from pipelines.extract.answering import NO_COST
from pipelines.extract.prefilter import PREFILTER_MODEL, PREFILTER_VERSION, variant_answer
from pipelines.extract.prompts import PROMPTS, cache_key, canonical_json

log = logging.getLogger("kgrec")

ITEM_TEXT_CHARS = 300


@dataclass
class TaskPlan:
    """The questions for the LLM, the answers the pre-filter already gave, and what was skipped."""

    tasks: pa.Table
    prefiltered: pa.Table
    counts: dict[str, int] = field(default_factory=dict)


def _item_view(row: dict[str, Any], with_text: bool) -> dict[str, Any]:
    view: dict[str, Any] = {"title": row["title"], "category": row["category"], "brand": row["brand"]}
    if row.get("price") is not None:
        view["price"] = round(float(row["price"]), 2)
    if with_text and row.get("text"):
        view["text"] = row["text"][:ITEM_TEXT_CHARS]
    return {k: v for k, v in view.items() if v not in (None, "")}


def _queue(candidates_dir: Path, max_pairs: int | None) -> pl.DataFrame:
    queue = pl.scan_parquet(str(candidates_dir / "llm_queue" / "*.parquet")).sort("llm_rank")
    if max_pairs is not None:
        queue = queue.head(max_pairs)
    return queue.select("item_a", "item_b", "n_ab", "lift", "first_seen", "last_seen", "llm_rank").collect()


def _items(ingest_dir: Path, ids: pl.Series) -> dict[str, dict[str, Any]]:
    items = (pl.scan_parquet(str(ingest_dir / "items" / "*.parquet"))
             .filter(pl.col("item_id").is_in(ids.implode()))
             .filter(pl.col("title").is_not_null() & (pl.col("title").str.strip_chars() != ""))
             .collect())
    return {row["item_id"]: row for row in items.iter_rows(named=True)}


def _ranked_items(queue: pl.DataFrame, limit: int | None) -> list[str]:
    """Items by how many queued pairs hold them, then by their best pair's rank."""
    ends = pl.concat([queue.select(pl.col("item_a").alias("item_id"), "llm_rank"),
                      queue.select(pl.col("item_b").alias("item_id"), "llm_rank")])
    ranked = (ends.group_by("item_id").agg(pl.len().alias("pairs"), pl.col("llm_rank").min())
              .sort(["pairs", "llm_rank", "item_id"], descending=[True, False, False]))
    ids = ranked["item_id"].to_list()
    return ids if limit is None else ids[:limit]


def plan_tasks(candidates_dir: Path, ingest_dir: Path, settings: ExtractSection, model: str) -> TaskPlan:
    """Build the question table for `model` and the pre-filter's answers."""
    queue = _queue(candidates_dir, settings.max_pairs if LlmTask.PAIR in settings.tasks else 0)
    items = _items(ingest_dir, pl.concat([queue["item_a"], queue["item_b"]]).unique())
    tasks: list[dict[str, Any]] = []
    prefiltered: list[dict[str, Any]] = []
    untitled: set[str] = set()
    if LlmTask.PAIR in settings.tasks:
        spec = PROMPTS[LlmTask.PAIR]
        for pair in queue.iter_rows(named=True):
            a, b = items.get(pair["item_a"]), items.get(pair["item_b"])
            if a is None or b is None:
                untitled.update(i for i, v in ((pair["item_a"], a), (pair["item_b"], b)) if v is None)
                continue
            task_input = {"a": _item_view(a, False), "b": _item_view(b, False)}
            evidence = {k: pair[k] for k in ("item_a", "item_b", "n_ab", "lift", "first_seen", "last_seen")}
            input_json = canonical_json(task_input)
            rule = variant_answer(a, b, settings.prefilter_price_ratio) if settings.prefilter else None
            if rule is None:
                tasks.append({"key": cache_key(model, spec.version, input_json), "task": LlmTask.PAIR.value,
                              "input_json": input_json, "model": model, "prompt_version": spec.version,
                              **evidence})
            else:
                prefiltered.append({
                    "key": cache_key(PREFILTER_MODEL, PREFILTER_VERSION, input_json),
                    "task": LlmTask.PAIR.value, "input_json": input_json, "model": PREFILTER_MODEL,
                    "prompt_version": PREFILTER_VERSION, **evidence, "source": AnswerSource.PREFILTER.value,
                    "status": AnswerStatus.OK.value, "answer_json": rule.model_dump_json(),
                    **NO_COST,
                })
    item_tasks = [t for t in (LlmTask.COMMONSENSE, LlmTask.FACTS) if t in settings.tasks]
    if item_tasks:
        for item_id in _ranked_items(queue, settings.max_items):
            row = items.get(item_id)
            if row is None:
                untitled.add(item_id)
                continue
            input_json = canonical_json({"item": _item_view(row, True)})
            for task in item_tasks:
                version = PROMPTS[task].version
                tasks.append({"key": cache_key(model, version, input_json), "task": task.value,
                              "item_a": item_id, "input_json": input_json, "model": model,
                              "prompt_version": version})
    if untitled:
        log.warning("extract: %d queued items have no title in %s/items and were not asked about "
                    "(e.g. %s)", len(untitled), ingest_dir, ", ".join(sorted(untitled)[:5]))
    return TaskPlan(
        tasks=pa.Table.from_pylist(tasks, schema=arrow_schema_of(ExtractionTask)),
        prefiltered=pa.Table.from_pylist(prefiltered, schema=arrow_schema_of(LlmAnswer)),
        counts={"queued_pairs": queue.height, "items_without_title": len(untitled)},
    )
