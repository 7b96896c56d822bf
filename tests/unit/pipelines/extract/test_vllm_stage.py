"""The vLLM path: Ray's processor config is built and checked, and the code around it is shared.

No GPU (and so no official vLLM) exists here or in CI: the engine itself cannot run. What runs
is everything kgrec hands to it and takes back from it.
"""

import json
from pathlib import Path

import pyarrow as pa

from kg.schema import LlmTask
from pipelines.extract.answering import ANSWER_SCHEMA
from pipelines.extract.cache import AnswerCache
from pipelines.extract.config import ExtractSection
from pipelines.extract.prompts import PROMPTS, cache_key, canonical_json
from pipelines.extract.vllm_stage import finalize, postprocess, preprocess, processor_config

SETTINGS = ExtractSection(backend="vllm", model="Qwen/Qwen2.5-7B-Instruct", workers=4, batch_size=64,
                          vllm_tensor_parallel_size=2, vllm_accelerator_type="L4")


def task_row() -> dict[str, object]:
    text = canonical_json({"item": {"title": "Tent"}})
    version = PROMPTS[LlmTask.FACTS].version
    return {"key": cache_key("qwen", version, text), "task": "facts", "item_a": "P1", "item_b": None,
            "input_json": text, "n_ab": None, "lift": None, "first_seen": None, "last_seen": None,
            "model": "qwen", "prompt_version": version}


def test_processor_config_carries_the_settings() -> None:
    config = processor_config(SETTINGS)
    assert config.model_source == "Qwen/Qwen2.5-7B-Instruct"
    assert config.engine_kwargs["enable_prefix_caching"] is True
    assert config.engine_kwargs["tensor_parallel_size"] == 2
    assert config.concurrency == 4 and config.batch_size == 64 and config.accelerator_type == "L4"
    assert config.should_continue_on_error is True


def test_preprocess_sends_the_shared_messages_and_the_schema_for_guided_decoding() -> None:
    row = preprocess(task_row(), temperature=0.0, max_tokens=99)
    spec = PROMPTS[LlmTask.FACTS]
    assert row["messages"] == spec.messages({"item": {"title": "Tent"}})
    assert row["sampling_params"] == {"temperature": 0.0, "max_tokens": 99,
                                      "structured_outputs": {"json": canonical_json(spec.schema)}}


def test_postprocess_parses_caches_and_finalize_turns_engine_errors_into_failures(tmp_path: Path) -> None:
    row = {**task_row(), "generated_text": json.dumps({"facts": "A tent."}), "num_input_tokens": 80,
           "num_generated_tokens": 9}
    answered = postprocess(row, str(tmp_path))
    assert answered["status"] == "ok" and answered["completion_tokens"] == 9
    assert AnswerCache(str(tmp_path)).get(answered["key"]) is not None
    broken = postprocess({**row, "key": "f" * 64, "generated_text": '{"facts": '}, str(tmp_path))
    assert broken["status"] == "failed" and broken["reason"].startswith("malformed JSON")
    engine_error = {**task_row(), "__inference_error__": "CUDA out of memory", "messages": []}
    table = finalize(pa.Table.from_pylist([{**answered, "__inference_error__": ""}, engine_error]))
    assert table.schema == ANSWER_SCHEMA
    rows = table.to_pylist()
    assert rows[0]["status"] == "ok"
    assert rows[1]["status"] == "failed" and rows[1]["reason"] == "transport: engine error: CUDA out of memory"
