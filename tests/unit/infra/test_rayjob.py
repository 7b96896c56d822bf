"""The KubeRay RayJob's fields that kgrec relies on agree with the cluster preset and the image.

KubeRay's CRD schema is not shipped with kubernetes-validate, so the fields kgrec depends on
are checked here: the entry point is a real kgrec command on a preset in the image, every pod
runs the image the Dockerfile builds, the GPU group is what extract's vLLM settings ask for, and
every path the run shares across nodes and runs is on the mounted shared volume.
"""

import json
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from pipelines.cli import app
from pipelines.config import Settings, load_settings
from tests.unit.infra.infra_files import (
    CLUSTER_PRESET,
    RAYJOB,
    ROOT,
    containers,
    in_repo,
    kubernetes_documents,
)

SPEC = yaml.safe_load(RAYJOB.read_text())["spec"]
CLUSTER = SPEC["rayClusterSpec"]
GROUPS = {"head": CLUSTER["headGroupSpec"], **{g["groupName"]: g for g in CLUSTER["workerGroupSpecs"]}}
PRESET: Settings = load_settings(CLUSTER_PRESET)


def _project_version() -> str:
    import tomllib

    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def _parse_entrypoint() -> Any:
    """Parse the entry point as the `kgrec` console script would, paths read from the image."""
    program, *args = SPEC["entrypoint"].split()
    assert program == "kgrec"
    args = [str(in_repo(a)) if a.startswith("/home/") else a for a in args]
    root = typer.main.get_command(app)  # a click group (typer's own vendored click)
    context = root.make_context(program, [], resilient_parsing=True)  # the group takes no argument here
    name, *options = args
    command = root.get_command(context, name)
    assert command is not None, name
    return command.make_context(name, options, parent=context)


def test_the_entrypoint_is_a_kgrec_command_on_the_cluster_preset_in_the_image() -> None:
    context = _parse_entrypoint()
    assert context.info_name == "run"
    assert Path(context.params["config"]) == CLUSTER_PRESET
    assert PRESET.extract.backend == "vllm"


def test_every_pod_runs_the_image_the_dockerfile_builds_at_this_version() -> None:
    images = {c["image"] for g in GROUPS.values() for c in containers(g["template"]["spec"])}
    (image,) = images
    name, tag = image.rsplit(":", 1)
    assert name.endswith("/kgrec") and tag == _project_version()


def _gpu_resources(group: dict[str, Any]) -> list[str]:
    return [c["resources"]["limits"].get("nvidia.com/gpu") for c in containers(group["template"]["spec"])]


def test_the_gpu_group_is_what_the_vllm_settings_ask_for() -> None:
    extract = PRESET.extract
    gpu = GROUPS["gpu"]
    per_engine = str(extract.vllm_tensor_parallel_size)  # an engine's GPUs are on one pod
    assert _gpu_resources(gpu) == [per_engine]
    assert gpu["template"]["spec"]["containers"][0]["resources"]["requests"]["nvidia.com/gpu"] == per_engine
    assert gpu["rayStartParams"]["num-gpus"] == per_engine
    declared = json.loads(json.loads(gpu["rayStartParams"]["resources"]))  # KubeRay's quoted JSON
    assert extract.vllm_accelerator_type and declared == {f"accelerator_type:{extract.vllm_accelerator_type}": 1}
    assert gpu["maxReplicas"] >= extract.workers
    assert all(_gpu_resources(group) == [None] for name, group in GROUPS.items() if name != "gpu")


def _shared_claim() -> str:
    (claim,) = [d["metadata"]["name"] for _, d in kubernetes_documents() if d["kind"] == "PersistentVolumeClaim"]
    return str(claim)


# What a run writes on one node and reads on another, or in a later run: the shared volume's.
SHARED_PATHS = {
    "run.runs_dir": PRESET.run.runs_dir,
    "extract.cache_dir": Path(PRESET.extract.cache_dir),
    "gnn.text_cache_dir": PRESET.gnn.text_cache_dir,
    "refine.critic_dir": PRESET.refine.critic_dir,
    "cache.exports_dir": PRESET.cache.exports_dir,
}


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_every_pod_mounts_the_shared_volume_where_the_preset_points(group: str) -> None:
    pod = GROUPS[group]["template"]["spec"]
    volumes = {v["name"] for v in pod["volumes"] if v.get("persistentVolumeClaim", {}).get("claimName") == _shared_claim()}
    for container in containers(pod):
        mounts = [Path(m["mountPath"]) for m in container["volumeMounts"] if m["name"] in volumes]
        for key, path in SHARED_PATHS.items():
            assert path is not None and any(path.is_relative_to(m) for m in mounts), (group, key, path)


def _env(group: str) -> dict[str, dict[str, Any]]:
    (container,) = containers(GROUPS[group]["template"]["spec"])
    return {e["name"]: e for e in container["env"]}


def _secret_refs(path: str) -> set[tuple[str, str]]:
    refs = set()
    for file, document in kubernetes_documents():
        if file.relative_to(ROOT).as_posix() == path and document["kind"] == "StatefulSet":
            for container in containers(document["spec"]["template"]["spec"]):
                refs |= {(e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
                         for e in container.get("env", []) if "valueFrom" in e}
    return refs


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_every_pod_reaches_the_deployed_graph_store_and_cache(group: str) -> None:
    env = _env(group)
    overrides = {"graph": {"backend": env["KGREC_GRAPH__BACKEND"]["value"],
                           "neo4j_uri": env["KGREC_GRAPH__NEO4J_URI"]["value"]},
                 "cache": {"url": env["KGREC_CACHE__URL"]["value"]}}
    settings = load_settings(CLUSTER_PRESET, overrides)  # the values are ones kgrec accepts
    assert settings.graph.backend == "neo4j"
    services = {d["metadata"]["name"]: d for _, d in kubernetes_documents() if d["kind"] == "Service"}
    for url, service in ((settings.graph.neo4j_uri, "kgrec-neo4j"), (settings.cache.url, "kgrec-redis")):
        port = services[service]["spec"]["ports"][0]["port"]
        assert url and f"//{service}:{port}" in url
    neo4j_secret = env["KGREC_GRAPH__NEO4J_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
    assert neo4j_secret in {name for name, _ in _secret_refs("infra/neo4j/statefulset.yaml")}
    redis_secret = env["KGREC_CACHE__PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert (redis_secret["name"], redis_secret["key"]) in _secret_refs("infra/redis/statefulset.yaml")
