"""Every `kgrec` command against inputs a user gets wrong: a message, exit code 2, never a traceback.

Each case runs one command in its own process, forked from one that imported the CLI once
(`tests/_support/cli_forks.py`: about a minute for ~90 commands on 2 busy cores, where a fresh
interpreter for each, at 1.3 s a command here, would take two), with stdout and stderr going to
files, as in a log or CI. Inputs are missing, empty, of the wrong kind (another stage's output, a
raw data folder, a file where a directory belongs) or corrupt, and the stores are stopped,
unreachable or of the wrong kind. A case passes when the command exits with 2 and its stderr ends
in one paragraph, `error: ...`, that names the input and the fix. Commands that would start Ray
must fail before it (starting it is made an error here).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kg.servers import free_port
from tests._support.cli_forks import ForkedKgrec
from tests._support.embeddings import make_export
from tests._support.gnn_data import write_events, write_snapshot
from tests.e2e.test_graph_cli import _graph_input

GARBAGE = b"PAR1 this is not parquet \x00\x01\x02 at all"


@dataclass(frozen=True)
class Case:
    """One command line, the environment it adds, and what its message must name."""

    id: str
    args: tuple[str, ...]
    names: tuple[str, ...]  # substrings of the message: the input, the fix
    env: dict[str, str] = field(default_factory=dict)
    code: int = 2


@dataclass
class World:
    """The inputs (under `root`), the stores the cases need, and the kgrec that runs the cases."""

    root: Path
    kgrec: ForkedKgrec
    env: dict[str, str]
    ports: dict[str, int]


def _write_world(root: Path) -> None:
    (root / "empty").mkdir()
    (root / "notes.txt").write_text("a note, not data\n")
    (root / "corrupt.parquet").write_bytes(GARBAGE)
    (root / "corrupt.yaml").write_text("graph: [unclosed\n  batch_size: 3\n")
    (root / "labels.csv").write_text("a,b,label\ni001,i002,complement\n")
    (root / "bad_labels.csv").write_text('a,b,label\n"i001,i002\n')
    write_events(root / "ingest_out", events=200)
    items = pa.table({"item_id": [f"i{i:03d}" for i in range(40)], "title": [f"item {i}" for i in range(40)],
                      "category": ["c"] * 40, "brand": [None] * 40, "price": [1.0] * 40})
    (root / "ingest_out" / "items").mkdir()
    pq.write_table(items, root / "ingest_out" / "items" / "part-0.parquet")
    for name, stage, complete in (("candidates_out", "candidates", True), ("partial", "ingest", False)):
        (root / name / "events").mkdir(parents=True)
        (root / name / "_STARTED.json").write_text(json.dumps({"stage": stage}))
        if complete:
            (root / name / "_SUCCESS.json").write_text("{}")
    for table in ("events", "items"):
        (root / "bad_ingest" / table).mkdir(parents=True)
        (root / "bad_ingest" / table / "part-0.parquet").write_bytes(GARBAGE)
    (root / "bad_ingest" / "_SUCCESS.json").write_text("{}")
    write_snapshot(root / "snapshot")
    (root / "bad_snapshot").mkdir()
    for name in ("relations.parquet", "items.parquet", "concepts.parquet", "manifest.json"):
        (root / "bad_snapshot" / name).write_bytes(GARBAGE)
    (root / "bad_model").mkdir()
    (root / "bad_model" / "_SUCCESS.json").write_text("{}")
    (root / "bad_model" / "train.json").write_text('{"model_name": ')
    make_export(root / "exp", "v1", users=3, items=4, dim=2)
    _graph_input(root / "graph_input")
    (root / "bad_graph_input" / "items").mkdir(parents=True)
    (root / "bad_graph_input" / "relations").mkdir()
    (root / "bad_graph_input" / "relations" / "part-0.parquet").write_bytes(GARBAGE)
    (root / "bad_state").mkdir()
    (root / "bad_state" / "server.json").write_text("{")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("world")
    _write_world(root)
    kgrec = ForkedKgrec()
    held = socket.socket()  # a port something else listens on
    held.bind(("127.0.0.1", 0))
    held.listen()
    env = {"KGREC_GRAPH__STATE_DIR": str(root / "graph_state"), "KGREC_CACHE__STATE_DIR": str(root / "cache_state"),
           "KGREC_CACHE__EXPORTS_DIR": str(root / "exp"), "KGREC_RAY__NUM_CPUS": "1",
           "KGREC_REFINE__CRITIC_DIR": str(root / "critics"), "KGREC_RUN__RUNS_DIR": str(root / "runs")}
    live = {"KGREC_GRAPH__STATE_DIR": str(root / "live_graph"), "KGREC_CACHE__STATE_DIR": str(root / "live_cache")}
    synth = kgrec.run("data", "synth", "--events", "300", "--out", "synth", cwd=root, env=env)
    assert synth.returncode == 0, synth.stderr
    started = [kgrec.run(group, "start", cwd=root, env={**env, **live}) for group in ("graph", "cache")]
    assert all(s.returncode == 0 for s in started), [s.stderr for s in started]
    ports = {"dead": free_port(), "held": held.getsockname()[1],
             "cache": json.loads((root / "live_cache" / "server.json").read_text())["port"]}
    try:
        yield World(root, kgrec, env, ports)
    finally:
        for group in ("graph", "cache"):
            kgrec.run(group, "stop", cwd=root, env={**env, **live})
        kgrec.close()
        held.close()


def _live(world: World) -> dict[str, str]:
    return {"KGREC_GRAPH__STATE_DIR": str(world.root / "live_graph"),
            "KGREC_CACHE__STATE_DIR": str(world.root / "live_cache")}


def _port_env(case_env: dict[str, str], world: World) -> dict[str, str]:
    """Case env values may name ports by role: {dead}, {held}, {cache}."""
    return {k: v.format(**world.ports, root=world.root) for k, v in case_env.items()}


DEAD_GRAPH = {"KGREC_GRAPH__FALKORDB_URL": "redis://127.0.0.1:{dead}"}
DEAD_CACHE = {"KGREC_CACHE__URL": "redis://127.0.0.1:{dead}"}
LIVE = {"live": "1"}  # the running FalkorDB and Redis
INGEST_HINT = "kgrec ingest"
STOPPED_GRAPH = ("graph_state", "kgrec graph start")
STOPPED_CACHE = ("cache_state", "kgrec cache start")
ITEMS_FLAGS = ("--ingest", "ingest_out", "--candidates", "candidates_out")

CASES = [
    # configuration
    Case("config-missing", ("config", "show", "-c", "nowhere.yaml"), ("nowhere.yaml", "infra/configs")),
    Case("config-corrupt", ("config", "show", "-c", "corrupt.yaml"), ("corrupt.yaml", "line 2")),
    Case("config-a-directory", ("config", "show", "-c", "empty"), ("empty", "a directory")),
    Case("config-bad-value", ("config", "show"), ("synth.events", "KGREC_SYNTH__EVENTS"),
         env={"KGREC_SYNTH__EVENTS": "-5"}),
    Case("run-config-missing", ("run", "-c", "nowhere.yaml"), ("nowhere.yaml", "infra/configs")),
    Case("run-previous-without-since", ("run", "--previous", "runs/x"), ("--previous", "--since")),
    # data synth, ingest
    Case("synth-out-is-a-file", ("data", "synth", "--out", "notes.txt"), ("notes.txt", "--out")),
    Case("ingest-missing", ("ingest", "--events", "nowhere", "--out", "o"), ("nowhere", "--events")),
    Case("ingest-empty", ("ingest", "--events", "empty", "--out", "o"), ("empty", "no data files")),
    Case("ingest-wrong-kind", ("ingest", "--events", "notes.txt", "--out", "o"), ("notes.txt", "--format")),
    Case("ingest-items-missing", ("ingest", "--events", "synth/events", "--items", "nowhere.parquet",
                                  "--out", "o"), ("nowhere.parquet", "--items")),
    Case("ingest-out-is-a-file", ("ingest", "--events", "synth/events", "--out", "notes.txt"),
         ("notes.txt", "--out")),
    # candidates (its --in is an ingest output)
    Case("candidates-missing", ("candidates", "--in", "nowhere", "--out", "o"), ("nowhere", INGEST_HINT)),
    Case("candidates-empty", ("candidates", "--in", "empty", "--out", "o"), ("empty", INGEST_HINT)),
    Case("candidates-a-file", ("candidates", "--in", "notes.txt", "--out", "o"), ("notes.txt", INGEST_HINT)),
    Case("candidates-raw-data", ("candidates", "--in", "synth", "--out", "o"),
         ("synth: is not an ingest output", INGEST_HINT)),
    Case("candidates-interrupted", ("candidates", "--in", "partial", "--out", "o"),
         ("partial", "incomplete (interrupted run?)", INGEST_HINT)),
    Case("candidates-another-stage", ("candidates", "--in", "candidates_out", "--out", "o"),
         ("candidates_out: is a candidates output, not an ingest output", INGEST_HINT)),
    Case("candidates-out-is-a-file", ("candidates", "--in", "ingest_out", "--out", "notes.txt"),
         ("notes.txt", "--out")),
    Case("candidates-since-not-a-time", ("candidates", "--in", "ingest_out", "--out", "o", "--since", "monday"),
         ("--since 'monday'", "ISO 8601")),
    Case("candidates-since-alone", ("candidates", "--in", "ingest_out", "--out", "o", "--since", "2026-03-01"),
         ("--since", "--previous")),
    Case("candidates-previous-not-candidates", ("candidates", "--in", "ingest_out", "--out", "o", "--since",
                                                "2026-03-01", "--previous", "ingest_out"),
         ("ingest_out: is an ingest output, not a candidates output", "--previous")),
    # extract
    Case("extract-missing", ("extract", "--in", "nowhere", "--out", "o"), ("nowhere", "kgrec candidates")),
    Case("extract-wrong-kind", ("extract", "--in", "ingest_out", "--out", "o"), ("ingest_out", "kgrec candidates")),
    Case("extract-no-ingest", ("extract", "--in", "candidates_out", "--out", "o"), ("ingest", "--ingest")),
    Case("extract-no-flags", ("extract",), ("--in", "--out")),
    # this environment has no vLLM: the start-up version check says so, before Ray
    Case("extract-vllm-not-installed", ("extract", "--in", "candidates_out", "--ingest", "ingest_out", "--out", "o",
                                        "--backend", "vllm"), ("vLLM is not installed", "scripts/setup.sh vllm"),
         env={"KGREC_EXTRACT__MODEL": "Qwen/Qwen2.5-7B-Instruct"}),
    Case("extract-score-pred-missing", ("extract", "score", "--pred", "nowhere", "--labels", "labels.csv"),
         ("nowhere", "kgrec extract")),
    Case("extract-score-labels-missing", ("extract", "score", "--pred", "nowhere", "--labels", "none.csv"),
         ("none.csv", "labels")),
    Case("extract-score-labels-corrupt", ("extract", "score", "--pred", "nowhere", "--labels", "corrupt.parquet"),
         ("corrupt.parquet", "ground truth")),
    Case("extract-score-labels-a-directory", ("extract", "score", "--pred", "nowhere", "--labels", "empty"),
         ("empty", "ground truth")),
    Case("extract-score-labels-bad-csv", ("extract", "score", "--pred", "nowhere", "--labels", "bad_labels.csv"),
         ("bad_labels.csv", "a, b, label")),
    Case("extract-show-missing", ("extract", "show", "--in", "nowhere"), ("nowhere", "kgrec extract")),
    Case("extract-show-raw-data", ("extract", "show", "--in", "synth"), ("synth", "kgrec extract")),
    # refine, train-critic
    Case("refine-missing", ("refine", "--candidates", "nowhere", "--ingest", "nowhere", "--out", "o"),
         ("nowhere", INGEST_HINT)),
    Case("refine-raw-data", ("refine", "--candidates", "candidates_out", "--ingest", "synth", "--out", "o"),
         ("synth: is not an ingest output", INGEST_HINT)),
    Case("refine-no-flags", ("refine",), ("--candidates", "--ingest", "--out")),
    Case("refine-previous-not-refine", ("refine", "--candidates", "candidates_out", "--ingest", "ingest_out",
                                        "--out", "o", "--previous", "ingest_out"),
         ("ingest_out: is an ingest output, not a refine output", "--previous")),
    Case("refine-critic-missing", ("refine", *ITEMS_FLAGS, "--out", "o", "--critic", "nowhere"),
         ("nowhere", "critic")),
    Case("critic-labels-missing", ("refine", "train-critic", "--labels", "none.csv", *ITEMS_FLAGS),
         ("none.csv", "labels")),
    Case("critic-labels-corrupt", ("refine", "train-critic", "--labels", "corrupt.parquet", *ITEMS_FLAGS),
         ("corrupt.parquet", "labels")),
    Case("critic-raw-data", ("refine", "train-critic", "--labels", "labels.csv", "--ingest", "synth",
                             "--candidates", "candidates_out"), ("synth", INGEST_HINT)),
    Case("critic-corrupt-ingest", ("refine", "train-critic", "--labels", "labels.csv", "--ingest", "bad_ingest",
                                   "--candidates", "candidates_out"), ("bad_ingest", INGEST_HINT)),
    # graph
    Case("graph-load-missing", ("graph", "load", "--in", "nowhere"), ("nowhere", "kgrec refine")),
    Case("graph-load-empty", ("graph", "load", "--in", "empty"), ("empty", "kgrec refine")),
    Case("graph-load-a-file", ("graph", "load", "--in", "notes.txt"), ("notes.txt", "kgrec refine")),
    Case("graph-load-corrupt", ("graph", "load", "--in", "bad_graph_input"),
         ("part-0.parquet", "kgrec refine")),
    Case("graph-load-stopped", ("graph", "load", "--in", "graph_input"), STOPPED_GRAPH),
    Case("graph-load-unreachable", ("graph", "load", "--in", "graph_input"), ("127.0.0.1", "graph.falkordb_url"),
         env=DEAD_GRAPH),
    Case("graph-load-not-falkordb", ("graph", "load", "--in", "graph_input"), ("not FalkorDB", "graph.falkordb_url"),
         env={"KGREC_GRAPH__FALKORDB_URL": "redis://127.0.0.1:{cache}"}),
    Case("graph-snapshot-stopped", ("graph", "snapshot", "--out", "s"), STOPPED_GRAPH),
    Case("graph-snapshot-unreachable", ("graph", "snapshot", "--out", "s"), ("127.0.0.1", "graph.falkordb_url"),
         env=DEAD_GRAPH),
    Case("graph-status-stopped", ("graph", "status"), ("not running", "graph_state"), code=1),
    Case("graph-status-unreachable", ("graph", "status"), ("127.0.0.1", "graph.falkordb_url"), env=DEAD_GRAPH),
    Case("graph-status-bad-state", ("graph", "status"), ("server.json", "delete it"),
         env={"KGREC_GRAPH__STATE_DIR": "{root}/bad_state"}),
    Case("graph-start-state-is-a-file", ("graph", "start"), ("notes.txt", "graph.state_dir"),
         env={"KGREC_GRAPH__STATE_DIR": "{root}/notes.txt"}),
    Case("graph-start-port-taken", ("graph", "start"), ("server.log", "graph.port"),
         env={"KGREC_GRAPH__STATE_DIR": "{root}/taken_graph", "KGREC_GRAPH__PORT": "{held}"}),
    Case("graph-stop-bad-state", ("graph", "stop"), ("server.json", "delete it"),
         env={"KGREC_GRAPH__STATE_DIR": "{root}/bad_state"}),
    # curation
    Case("curate-list-stopped", ("curate", "list"), STOPPED_GRAPH),
    Case("curate-list-unreachable", ("curate", "list"), ("127.0.0.1", "graph.falkordb_url"), env=DEAD_GRAPH),
    Case("curate-accept-stopped", ("curate", "accept", "CO_PURCHASED:a:b"), STOPPED_GRAPH),
    Case("curate-reject-stopped", ("curate", "reject", "CO_PURCHASED:a:b"), STOPPED_GRAPH),
    Case("curate-export-stopped", ("curate", "export", "--out", "labels.csv"), STOPPED_GRAPH),
    Case("curate-ui-stopped", ("curate", "ui"), STOPPED_GRAPH),
    Case("curate-merge-concepts-stopped", ("curate", "merge-concepts", "function:a", "function:b"), STOPPED_GRAPH),
    Case("curate-split-concept-stopped", ("curate", "split-concept", "function:a", "b"), STOPPED_GRAPH),
    Case("curate-merge-concepts-unknown", ("curate", "merge-concepts", "function:a", "function:b"),
         ("no such concept", "function:a"), env=LIVE),
    Case("curate-accept-not-an-id", ("curate", "accept", "nonsense"), ("nonsense", "curate list"), env=LIVE),
    Case("curate-accept-unknown", ("curate", "accept", "CO_PURCHASED:a:b"), ("CO_PURCHASED:a:b", "curate list"),
         env=LIVE),
    Case("curate-export-out-missing-dir", ("curate", "export", "--out", "nowhere/labels.csv"),
         ("nowhere", "--out"), env=LIVE),
    # the temporal model
    Case("train-snapshot-missing", ("train", "--snapshot", "nowhere", "--events", "ingest_out", "--out", "m"),
         ("nowhere", "kgrec graph snapshot")),
    Case("train-snapshot-corrupt", ("train", "--snapshot", "bad_snapshot", "--events", "ingest_out", "--out", "m"),
         ("bad_snapshot", "kgrec graph snapshot")),
    Case("train-events-raw-data", ("train", "--snapshot", "snapshot", "--events", "synth", "--out", "m"),
         ("synth", INGEST_HINT)),
    Case("train-events-corrupt", ("train", "--snapshot", "snapshot", "--events", "bad_ingest", "--out", "m"),
         ("bad_ingest", INGEST_HINT)),
    Case("embed-export-model-missing", ("embed", "export", "--as-of", "2026-01-01", "--out", "e", "--model",
                                        "nowhere"), ("nowhere", "kgrec train")),
    Case("embed-export-model-corrupt", ("embed", "export", "--as-of", "2026-01-01", "--out", "e", "--model",
                                        "bad_model"), ("train.json", "kgrec train")),
    Case("embed-export-model-raw-data", ("embed", "export", "--as-of", "2026-01-01", "--out", "e", "--model",
                                         "synth"), ("synth", "kgrec train")),
    # serving
    Case("publish-version-missing", ("embed", "publish", "--version", "nope"), ("nope", "kgrec embed export")),
    Case("publish-cache-stopped", ("embed", "publish", "--version", "v1"), STOPPED_CACHE),
    Case("publish-cache-unreachable", ("embed", "publish", "--version", "v1"), ("127.0.0.1", "cache.url"),
         env=DEAD_CACHE),
    Case("publish-items-corrupt", ("embed", "publish", "--version", "v1", "--items", "corrupt.parquet"),
         ("corrupt.parquet", "--items")),
    Case("publish-items-missing", ("embed", "publish", "--version", "v1", "--items", "nowhere"),
         ("nowhere", "--items")),
    Case("cache-status-stopped", ("cache", "status"), ("not running", "cache_state"), code=1),
    Case("cache-status-unreachable", ("cache", "status"), ("127.0.0.1", "cache.url"), env=DEAD_CACHE),
    Case("cache-start-state-is-a-file", ("cache", "start"), ("notes.txt", "cache.state_dir"),
         env={"KGREC_CACHE__STATE_DIR": "{root}/notes.txt"}),
    Case("cache-stop-bad-state", ("cache", "stop"), ("server.json", "delete it"),
         env={"KGREC_CACHE__STATE_DIR": "{root}/bad_state"}),
    Case("serve-cache-stopped", ("serve",), STOPPED_CACHE),
    Case("serve-port-taken", ("serve",), ("{held}", "serve.port"), env={**LIVE, "KGREC_SERVE__PORT": "{held}"}),
    Case("ctr-neither-model-nor-embeddings", ("eval", "ctr", "--dataset", "events"), ("--model", "--embeddings")),
    Case("ctr-events-without-ingest", ("eval", "ctr", "--dataset", "events", "--embeddings", "exp/v1"), ("--ingest",)),
    Case("ctr-ingest-raw-data", ("eval", "ctr", "--dataset", "events", "--ingest", "synth", "--embeddings",
                                 "exp/v1"), ("synth", INGEST_HINT)),
    Case("ctr-ingest-corrupt", ("eval", "ctr", "--dataset", "events", "--ingest", "bad_ingest", "--embeddings",
                                "exp/v1"), ("bad_ingest", INGEST_HINT)),
    Case("ctr-embeddings-missing", ("eval", "ctr", "--dataset", "events", "--ingest", "ingest_out",
                                    "--embeddings", "nowhere"), ("nowhere", "kgrec embed export")),
    Case("ctr-movielens-missing", ("eval", "ctr", "--dataset", "movielens", "--embeddings", "exp/v1"),
         ("nowhere", "ctr.movielens_dir"), env={"KGREC_CTR__MOVIELENS_DIR": "{root}/nowhere"}),
    # the whole run, before Ray starts
    Case("run-events-missing", ("run",), ("nowhere", "ingest.events_path"),
         env={"KGREC_RUN__SOURCE": "files", "KGREC_INGEST__EVENTS_PATH": "{root}/nowhere"}),
    Case("run-events-empty", ("run",), ("empty", "ingest.events_path"),
         env={"KGREC_RUN__SOURCE": "files", "KGREC_INGEST__EVENTS_PATH": "{root}/empty"}),
    Case("run-items-missing", ("run",), ("nowhere", "ingest.items_path"),
         env={"KGREC_RUN__SOURCE": "files", "KGREC_INGEST__EVENTS_PATH": "{root}/synth/events",
              "KGREC_INGEST__ITEMS_PATH": "{root}/nowhere"}),
    Case("run-runs-dir-is-a-file", ("run",), ("notes.txt", "run.runs_dir"),
         env={"KGREC_RUN__RUNS_DIR": "{root}/notes.txt"}),
    Case("run-graph-unreachable", ("run",), ("127.0.0.1", "graph.falkordb_url"), env=DEAD_GRAPH),
    Case("run-vllm-not-installed", ("run",), ("vLLM is not installed", "scripts/setup.sh vllm"),
         env={"KGREC_EXTRACT__BACKEND": "vllm", "KGREC_EXTRACT__MODEL": "Qwen/Qwen2.5-7B-Instruct"}),
]


def _paragraph(stderr: str) -> str:
    """The error message: from the last `error:` to the end."""
    assert "error:" in stderr, stderr[-2000:]
    return stderr[stderr.rindex("error:"):].strip()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_user_error_is_one_paragraph_naming_the_input_and_the_fix(world: World, case: Case) -> None:
    env = {**world.env, **(_live(world) if case.env.get("live") else {}), **_port_env(case.env, world)}
    env.pop("live", None)
    result = world.kgrec.run(*case.args, cwd=world.root, env=env, forbid_ray=True)
    assert "Traceback" not in result.stderr, result.stderr[-1200:]
    assert result.returncode == case.code, result.stderr[-2000:]
    text = _paragraph(result.stderr) if case.code == 2 else result.stdout + result.stderr
    assert "\n\n" not in text, text
    names = [n.format(**world.ports) for n in case.names]
    assert all(name in text for name in names), f"{names} not all in: {text}"


def test_an_error_message_is_one_line_in_a_log_however_long_its_path(world: World) -> None:
    deep = world.root / ("a-long-directory-name-" * 6) / ("and-another-one-" * 6)
    deep.mkdir(parents=True)
    result = world.kgrec.run("embed", "publish", "--version", "nope", cwd=deep,
                             env={**world.env, "KGREC_CACHE__EXPORTS_DIR": str(deep / "exp")})
    assert result.returncode == 2
    line = next(line for line in result.stderr.splitlines() if line.startswith("error:"))
    assert line == f"error: {deep / 'exp' / 'nope'}: no embedding export here; {_PUBLISH_FIX}"


_PUBLISH_FIX = "`kgrec embed export --out ROOT --version V` writes one as ROOT/V"


def test_graph_status_on_a_new_empty_store_prints_its_counts(world: World) -> None:
    result = world.kgrec.run("graph", "status", cwd=world.root, env={**world.env, **_live(world)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "0 nodes, 0 relations" in result.stdout


def test_a_table_in_a_log_keeps_its_cells_whole(world: World) -> None:
    env = {**world.env, **_live(world)}
    loaded = world.kgrec.run("graph", "load", "--in", "graph_input", "--graph", "tables", cwd=world.root, env=env)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert json.loads(loaded.stdout)["rows"]["graph_relations"] == 3
    ids = [row["id"] for row in _relation_ids(world.root / "graph_input")]
    queue = world.kgrec.run("curate", "list", "--graph", "tables", cwd=world.root, env=env)
    assert queue.returncode == 0, queue.stderr[-2000:]
    assert all(relation_id in queue.stderr for relation_id in ids), queue.stderr  # not folded or cut at 80 columns
    assert max(len(line) for line in queue.stderr.splitlines()) > 80


def _relation_ids(graph_input: Path) -> list[dict[str, str]]:
    return [row for part in sorted((graph_input / "relations").glob("*.parquet"))
            for row in pq.read_table(part, columns=["id"]).to_pylist()]


def _command_paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command line the CLI offers, as its words (a group that runs itself counts too)."""
    commands = getattr(command, "commands", None)  # a group (typer bundles its own click)
    if commands is None:
        return [prefix]
    paths = [prefix] if prefix and getattr(command, "invoke_without_command", False) else []
    for name, sub in commands.items():
        paths += _command_paths(sub, (*prefix, name))
    return paths


def test_every_command_has_a_case() -> None:
    from typer.main import get_command

    from pipelines.cli.app import app

    paths = _command_paths(get_command(app))
    assert len(paths) > 25
    assert [p for p in paths if not any(case.args[:len(p)] == p for case in CASES)] == []
