"""vLLM engines on GPU workers through Ray Data LLM, sharing prompts, parser and cache.

`ray.data.llm.vLLMEngineProcessorConfig` runs the engines (guided JSON decoding from each
prompt's schema, prefix caching, batch size, replicas, tensor parallelism from the config).
Around it, everything is the code the HTTP path uses: the same messages, the same parser, the
same cache entries. Guided decoding makes invalid JSON rare; an answer that still fails
validation is recorded (and cached) as a failure after one attempt, and `extract.retry_failures`
asks it again in a later run. An engine error on a row becomes a transport failure of that row.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from kg.schema import LlmTask
from pipelines.extract.answering import ANSWER_SCHEMA, NO_COST, TASK_COLUMNS, settle, transport_failure
from pipelines.extract.answers import parse_answer
from pipelines.extract.cache import open_cache
from pipelines.extract.config import ExtractSection
from pipelines.extract.prompts import PROMPTS, canonical_json

if TYPE_CHECKING:
    from ray.data import Dataset
    from ray.data.llm import vLLMEngineProcessorConfig


def processor_config(settings: ExtractSection) -> vLLMEngineProcessorConfig:
    """The Ray Data LLM processor config for `settings` (checked by pydantic on construction)."""
    from ray.data.llm import vLLMEngineProcessorConfig

    assert settings.model  # checked by ExtractSection
    return vLLMEngineProcessorConfig(
        model_source=settings.model,
        engine_kwargs={
            **settings.vllm_engine_kwargs,
            "enable_prefix_caching": settings.vllm_prefix_caching,
            "tensor_parallel_size": settings.vllm_tensor_parallel_size,
            "max_model_len": settings.vllm_max_model_len,
            "gpu_memory_utilization": settings.vllm_gpu_memory_utilization,
        },
        concurrency=settings.workers,
        batch_size=settings.batch_size,
        accelerator_type=settings.vllm_accelerator_type,
        should_continue_on_error=True,
        chat_template_stage={"num_cpus": settings.vllm_cpu_stage_cpus},
        tokenize_stage={"num_cpus": settings.vllm_cpu_stage_cpus},
        detokenize_stage={"num_cpus": settings.vllm_cpu_stage_cpus},
        **(_on_cpu() if settings.vllm_device == "cpu" else {}),
    )


def _on_cpu() -> dict[str, Any]:
    """What vllm-cpu needs of Ray's processor (`extract.vllm_device: cpu`).

    A CPU bundle instead of a GPU, its OpenMP threads bound to cores (VLLM_CPU_OMP_THREADS_BIND,
    default all of this machine's), no engine metrics (their GPU counters fail on CPU).
    """
    bind = os.environ.get("VLLM_CPU_OMP_THREADS_BIND") or f"0-{(os.cpu_count() or 1) - 1}"
    return {"placement_group_config": {"bundles": [{"CPU": 1}]}, "log_engine_metrics": False,
            "runtime_env": {"env_vars": {"VLLM_CPU_OMP_THREADS_BIND": bind}}}


def preprocess(row: dict[str, Any], temperature: float, max_tokens: int) -> dict[str, Any]:
    """A task row plus the chat messages and sampling parameters the engine reads.

    The schema travels as JSON text (vLLM takes either): as a nested dict it became an Arrow
    struct whose fields differ by task, and Ray Data failed joining the rows of one batch.
    """
    spec = PROMPTS[LlmTask(row["task"])]
    return {
        **{k: row[k] for k in TASK_COLUMNS},
        "messages": spec.messages(json.loads(row["input_json"])),
        "sampling_params": {"temperature": temperature, "max_tokens": max_tokens,
                            "structured_outputs": {"json": canonical_json(spec.schema)}},
    }


def postprocess(row: dict[str, Any], cache_dir: str) -> dict[str, Any]:
    """Parse the engine's text with the shared parser and cache the answer."""
    task = {k: row[k] for k in TASK_COLUMNS}
    text = row.get("generated_text")
    result = parse_answer(text, PROMPTS[LlmTask(task["task"])].answer_model)
    counts = {"requests": 1, "attempts": 1, "prompt_tokens": int(row.get("num_input_tokens") or 0),
              "completion_tokens": int(row.get("num_generated_tokens") or 0)}
    answer, entry = settle(task, result, text, counts)
    open_cache(cache_dir).put(entry)  # postprocess is a plain function
    return answer


def finalize(batch: pa.Table) -> pa.Table:
    """Answer rows in the answers schema; rows the engine failed on become transport failures."""
    rows = []
    for row in batch.to_pylist():
        error = row.get("__inference_error__") or ""
        if error:
            task = {k: row.get(k) for k in TASK_COLUMNS}
            rows.append(transport_failure(task, f"engine error: {str(error)[:200]}",
                                          {**NO_COST, "requests": 1}))
        else:
            rows.append({name: row.get(name) for name in ANSWER_SCHEMA.names})
    return pa.Table.from_pylist(rows, schema=ANSWER_SCHEMA)


def answer_with_vllm(pending: Dataset, settings: ExtractSection) -> Dataset:
    """Run `pending` (tasks the cache could not answer) through vLLM engines."""
    from ray.data.llm import build_processor

    processor = build_processor(
        processor_config(settings),
        preprocess=lambda row: preprocess(row, settings.temperature, settings.max_tokens),
        postprocess=lambda row: postprocess(row, settings.cache_dir),
    )
    return processor(pending).map_batches(finalize, batch_format="pyarrow")
