"""A Ray cluster of two nodes on this machine, and what a stage does when it loses one.

The head and a second node are real `ray start` processes with their own raylets; the stages
are submitted with `ray job submit`, as on a cluster. Killing the second node's raylet is a
real node failure. What happens then depends on what the node held: tasks (and the LLM
answerers' batches) Ray retries on the head, but an actor Ray Data does not restart (a hash
shuffle's aggregator; candidates regroups through files, with tasks only) dies with it and the
stage fails, naming the node (`pipelines.cli.node_loss`). A run that completed must hold exactly the undisturbed run's rows;
one that failed must, once the command is run again: none twice, and no LLM question asked
twice (the answer cache holds them). The extract case re-runs after either outcome.
"""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from pipelines.config import SynthSection
from pipelines.synth.job import generate
from tests._support.chat_server import ChatServer, Reply, answer_for
from tests._support.ray_nodes import RayHead, RayNode, submit, succeeded

EVENTS = 10_000
STORE = ["--object-store-memory", str(256 * 2**20)]
CANDIDATE_TABLES: dict[str, tuple[str, ...] | None] = {"pairs": None, "llm_queue": None, "query_items": None}
# A cluster-sized plan for a small input: kgrec would give 10k events one bucket per exchange;
# four spread the exchanges' tasks over both nodes, as a large input's do.
CANDIDATES_CONFIG = {"ray": {"progress_bars": False}, "candidates": {"shuffle_partitions": 4}}


@dataclass
class TwoNodes:
    """The head (2 CPUs), a second node (2 CPUs, resource `second`), and their directory."""

    head: RayHead
    root: Path
    nodes: list[RayNode] = field(default_factory=list)

    def add_second(self) -> str:
        """Start a (new) second node; its node id."""
        self.nodes.append(self.head.add_node(self.root / f"second-{len(self.nodes)}.log", 2, {"second": 1}, *STORE))
        node_id = self.head.node_with("second")
        assert node_id
        return node_id

    def job(self, submission_id: str, *command: str) -> str:
        return succeeded(submit(self.head.address, "kgrec", *command, submission_id=submission_id))

    def job_tasks(self, submission_id: str) -> list[Any]:
        from ray.job_submission import JobSubmissionClient
        from ray.util.state import list_tasks

        job_id = JobSubmissionClient(self.head.address).get_job_info(submission_id).job_id
        if job_id is None:
            return []
        return list_tasks(address=self.head.address, filters=[("job_id", "=", job_id)], limit=10_000,
                          raise_on_missing_output=False)

    def kill_second_during(self, submission_id: str, command: list[str], ready: Callable[[], bool]) -> str:
        """Submit `command`, SIGKILL the second node's raylet once it runs work there and `ready()`."""
        from ray.job_submission import JobSubmissionClient

        second, node_id = self.nodes[-1], self.head.node_with("second")
        result = submit(self.head.address, "kgrec", *command, submission_id=submission_id, wait=False)
        assert result.returncode == 0, result.stderr
        self.head.wait_for(lambda: ready() and any(t.node_id == node_id and t.state == "RUNNING"
                                                   for t in self.job_tasks(submission_id)),
                           f"{submission_id} to run work on the second node", timeout_s=180)
        os.kill(second.raylet_pid(), signal.SIGKILL)
        client = JobSubmissionClient(self.head.address)
        self.head.wait_for(lambda: client.get_job_status(submission_id).is_terminal(), submission_id, 300)
        second.stop()
        return str(client.get_job_status(submission_id))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoNodes]:
    root = tmp_path_factory.mktemp("two_nodes")
    two = TwoNodes(RayHead.start_head(root / "head.log", 2, *STORE), root)
    try:
        two.add_second()
        yield two
    finally:
        for node in two.nodes:
            node.stop()
        two.head.stop()


@pytest.fixture(scope="module")
def mined(cluster: TwoNodes) -> Path:
    """raw/ (written here: synth needs no cluster), then ingest/ and candidates/ (the undisturbed
    run), each a job on both nodes."""
    root = cluster.root
    generate(SynthSection(events=EVENTS), root / "raw")
    cluster.job("ingest", "ingest", "--format", "parquet", "--events", str(root / "raw" / "events"),
                "--items", str(root / "raw" / "items.parquet"), "--out", str(root / "ingest"))
    (root / "candidates.yaml").write_text(yaml.safe_dump(CANDIDATES_CONFIG))
    cluster.job("candidates", *_candidates(root, root / "candidates"))
    return root


def _candidates(root: Path, out: Path) -> list[str]:
    return ["candidates", "--in", str(root / "ingest"), "--out", str(out), "--config", str(root / "candidates.yaml")]


def _rows(directory: Path, tables: dict[str, tuple[str, ...] | None]) -> dict[str, list[str]]:
    """Each table's rows (the named columns, or all) as sorted JSON lines: equal lists mean the
    same rows, each as often."""
    return {t: sorted(json.dumps(r, sort_keys=True, default=str)
                      for r in pq.read_table(str(directory / t), columns=list(columns) if columns else None).to_pylist())
            for t, columns in tables.items()}


def _outcome(status: str, logs: str, node_id: str, out: Path, expected: dict[str, list[str]],
             rows: Callable[[Path], dict[str, list[str]]]) -> str:
    """Assert one of the two allowed outcomes of a run that lost a node; say which it was."""
    if status == "SUCCEEDED":
        assert rows(out) == expected  # Ray retried the lost tasks: exactly the undisturbed rows
        return "completed"
    assert status == "FAILED"
    assert f"Ray lost node {node_id}" in logs and "run the same command again" in logs, logs[-3000:]
    assert not (out / "_SUCCESS.json").exists()
    return "failed naming the node"


def _job_logs(cluster: TwoNodes, submission_id: str) -> str:
    from ray.job_submission import JobSubmissionClient

    return JobSubmissionClient(cluster.head.address).get_job_logs(submission_id)


def test_the_stages_run_on_both_nodes(cluster: TwoNodes, mined: Path) -> None:
    from ray.util.state import list_nodes

    alive = {n.node_id for n in list_nodes(address=cluster.head.address, filters=[("state", "=", "ALIVE")],
                                           raise_on_missing_output=False)}
    assert len(alive) == 2
    # Ray packs tasks on the head until it is half busy, so a small stage may stay there; the
    # candidates stage (four buckets per exchange) spreads over both.
    ran_on = {job: {t.node_id for t in cluster.job_tasks(job) if t.state == "FINISHED" and t.node_id}
              for job in ("ingest", "candidates")}
    assert ran_on["candidates"] == alive, ran_on


def test_losing_a_node_while_candidates_runs(cluster: TwoNodes, mined: Path) -> None:
    node_id = cluster.head.node_with("second")
    assert node_id
    out = cluster.root / "candidates-lost"
    command = _candidates(mined, out)
    status = cluster.kill_second_during("candidates-lost", command, ready=lambda: True)
    expected = _rows(mined / "candidates", CANDIDATE_TABLES)
    outcome = _outcome(status, _job_logs(cluster, "candidates-lost"), node_id, out, expected,
                       lambda d: _rows(d, CANDIDATE_TABLES))
    print(f"candidates losing a node: {outcome}")  # shown by -rA; the README says which
    if outcome == "completed":  # exactly the undisturbed rows already; the extract case re-runs either way
        return
    cluster.add_second()
    cluster.job("candidates-rerun", *command)
    assert _rows(out, CANDIDATE_TABLES) == expected


def _extract_config(path: Path, server: ChatServer, cache: Path) -> Path:
    path.write_text(yaml.safe_dump({"ray": {"progress_bars": False}, "extract": {
        "backend": "openai", "base_url": server.base_url, "model": "scripted", "cache_dir": str(cache),
        "max_pairs": 24, "max_items": 6, "max_type_pairs": 0, "workers": 2, "concurrency": 2, "batch_size": 4,
        "retry_backoff_s": 0.01, "max_retries": 1}}))
    return path


def _answerers_on(cluster: TwoNodes, node_id: str) -> int:
    from ray.util.state import list_actors

    actors = list_actors(address=cluster.head.address, filters=[("node_id", "=", node_id), ("state", "=", "ALIVE")],
                         detail=True, raise_on_missing_output=False)
    return sum("HttpAnswerer" in f"{a.class_name} {a.repr_name}" for a in actors)  # Ray Data's MapWorker(...)


def _asked(server: ChatServer) -> Counter[str]:
    return Counter(json.dumps(body["messages"], sort_keys=True) for body in server.requests)


# What an answer says (not where it came from: a re-run's come from the cache), and the relations
# without the run id.
EXTRACT_TABLES: dict[str, tuple[str, ...] | None] = {
    "answers": ("key", "task", "status", "answer_json"),
    "relations": ("id", "head", "type", "tail", "tail_text", "confidence", "evidence_id")}


def test_losing_a_node_while_extract_runs(cluster: TwoNodes, mined: Path) -> None:
    if cluster.head.node_with("second") is None:
        cluster.add_second()
    node_id = cluster.head.node_with("second")
    slow = ChatServer(lambda body, n: Reply(answer_for(body), delay_s=0.3))  # answering outlasts the kill
    try:
        args = ["extract", "--in", str(mined / "candidates"), "--ingest", str(mined / "ingest")]
        undisturbed = mined / "extract"
        cluster.job("extract", *args, "--out", str(undisturbed),
                    "--config", str(_extract_config(mined / "extract.yaml", slow, mined / "cache-a")))
        asked_undisturbed = _asked(slow)
        slow.requests.clear()
        out, config = mined / "extract-lost", _extract_config(mined / "extract-lost.yaml", slow, mined / "cache-b")
        command = [*args, "--out", str(out), "--config", str(config)]
        answerers: list[int] = []  # answering actors on the second node, counted until the kill

        def answering_there() -> bool:
            answerers.append(_answerers_on(cluster, str(node_id)))
            return len(slow.requests) >= 2 and answerers[-1] > 0

        status = cluster.kill_second_during("extract-lost", command, ready=answering_there)
        expected = _rows(undisturbed, EXTRACT_TABLES)
        outcome = _outcome(status, _job_logs(cluster, "extract-lost"), str(node_id), out, expected,
                           lambda d: _rows(d, EXTRACT_TABLES))
        print(f"extract losing a node: {outcome}")
        cluster.add_second()
        cluster.job("extract-rerun", *command)
        assert _rows(out, EXTRACT_TABLES) == expected
        asked = _asked(slow)
        assert set(asked) == set(asked_undisturbed)
        # Asked twice: only questions in flight on the lost node, whose replies died with it (at
        # most `concurrency` per actor there); whatever it had answered was cached, and neither
        # Ray's retry of its batches nor the re-run asked that again.
        twice = [q for q, n in asked.items() if n > 1]
        assert max(asked.values()) <= 2 and len(twice) <= 2 * answerers[-1], (len(twice), answerers[-1])
    finally:
        slow.close()
