"""The local default for real: llama.cpp serving SmolLM2 on 127.0.0.1, killed with -9 mid-run.

These tests exercise the machinery (prompting, constrained decoding, parsing, caching,
accounting); they never assert that the tiny model's answers are right.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import psutil

from pipelines.extract.cache import AnswerCache


def _extract(mined: Path, out: Path, cache: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "KGREC_EXTRACT__CACHE_DIR": str(cache), "KGREC_EXTRACT__MAX_PAIRS": "3",
           "KGREC_EXTRACT__MAX_ITEMS": "1", "KGREC_EXTRACT__MAX_TYPE_PAIRS": "1", "KGREC_EXTRACT__PREFILTER": "false", "KGREC_RAY__NUM_CPUS": "2",
           "KGREC_RAY__OBJECT_STORE_MEMORY_MB": "400", "KGREC_RAY__PROGRESS_BARS": "false",
           "KGREC_EXTRACT__LOCAL_THREADS": "2"}
    # A file, not a pipe: Ray's daemons inherit it (see tests/e2e).
    with (out.parent / f"{out.name}.log").open("a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "extract", "--in", str(mined / "candidates"),
             "--ingest", str(mined / "ingest"), "--out", str(out)],
            env=env, stdout=log, stderr=log, text=True, start_new_session=True)


def test_killed_job_resumes_without_asking_any_question_twice(mined: Path, tmp_path: Path) -> None:
    cache_dir, out = tmp_path / "cache", tmp_path / "extract"
    cache = AnswerCache(str(cache_dir))
    first = _extract(mined, out, cache_dir)
    deadline = time.monotonic() + 300
    while len(cache.keys()) < 2:
        assert first.poll() is None, "extract ended before it could be killed"
        assert time.monotonic() < deadline, "no answers cached within 300 s"
        time.sleep(0.2)
    group = [first.pid, *(c.pid for c in psutil.Process(first.pid).children(recursive=True))]
    os.killpg(first.pid, signal.SIGKILL)  # the whole job, as a scheduler's kill -9 would
    first.wait(30)
    _, alive = psutil.wait_procs([psutil.Process(p) for p in group if psutil.pid_exists(p)], timeout=60)
    assert not alive, f"left behind: {[p.cmdline()[:3] for p in alive]}"  # llama server and Ray included
    answered_before = cache.keys()
    assert not (out / "_SUCCESS.json").exists()

    second = _extract(mined, out, cache_dir)
    assert second.wait(600) == 0
    report = json.loads((out / "_SUCCESS.json").read_text())["details"]
    answers = pl.read_parquet(out / "answers")
    asked_now = set(answers.filter(pl.col("source") == "llm")["key"])
    assert not asked_now & answered_before  # nothing asked twice
    assert report["cache_hits"] == len(answered_before) and report["questions"] == 3 + 1 * 2 + 1 == answers.height
    assert report["asked_llm"] == len(asked_now) == 6 - len(answered_before)
    assert report["completion_tokens"] > 0 and report["requests"] >= report["asked_llm"]
    relations = pl.read_parquet(out / "relations")
    assert relations.select("id", "evidence_id").is_unique().all()  # no record written twice
    assert set(relations["model"]) == {"SmolLM2-135M-Instruct.Q4_1"}
