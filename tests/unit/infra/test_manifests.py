"""Built-in Kubernetes kinds in infra/ validate against the schemas kubernetes-validate ships
(offline), and no credential is written in any of them."""

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.unit.infra.infra_files import ROOT, containers, kubernetes_documents

KUBERNETES_VERSION = "1.33.0"  # a release every managed Kubernetes offers; its schemas ship in the wheel
CRD_GROUPS = ("ray.io/",)  # KubeRay's kinds: their fields are checked in test_rayjob.py
CREDENTIAL_WORDS = ("PASSWORD", "AUTH", "TOKEN", "SECRET", "KEY")

BUILT_IN = [(path, doc) for path, doc in kubernetes_documents() if not doc["apiVersion"].startswith(CRD_GROUPS)]


def test_infra_holds_the_deployment_the_readme_describes() -> None:
    kinds = {(path.relative_to(ROOT).as_posix(), doc["kind"]) for path, doc in kubernetes_documents()}
    assert {("infra/ray/rayjob.yaml", "RayJob"), ("infra/ray/shared-volume.yaml", "PersistentVolumeClaim"),
            ("infra/neo4j/statefulset.yaml", "StatefulSet"), ("infra/neo4j/statefulset.yaml", "Service"),
            ("infra/redis/statefulset.yaml", "StatefulSet"), ("infra/redis/statefulset.yaml", "Service")} <= kinds


@pytest.mark.parametrize(("path", "document"), BUILT_IN,
                         ids=[f"{p.relative_to(ROOT)}:{d['kind']}" for p, d in BUILT_IN])
def test_built_in_kinds_validate_strictly(path: Path, document: dict[str, Any]) -> None:
    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_what_kubectl_would() -> None:
    _, statefulset = next((p, d) for p, d in BUILT_IN if d["kind"] == "StatefulSet")
    broken = {**statefulset, "spec": {**statefulset["spec"], "replicas": "one"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def _pod_specs(document: dict[str, Any]) -> list[dict[str, Any]]:
    if document["kind"] == "RayJob":
        cluster = document["spec"]["rayClusterSpec"]
        groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
        return [group["template"]["spec"] for group in groups]
    template = document.get("spec", {}).get("template")
    return [template["spec"]] if template else []


def test_no_credential_is_written_in_git() -> None:
    assert not [doc for _, doc in kubernetes_documents() if doc["kind"] == "Secret"]
    credential_envs = 0
    for path, document in kubernetes_documents():
        for spec in _pod_specs(document):
            for container in containers(spec):
                for env in container.get("env", []):
                    if any(word in env["name"] for word in CREDENTIAL_WORDS):
                        credential_envs += 1
                        assert "value" not in env and "secretKeyRef" in env["valueFrom"], (path, env["name"])
    assert credential_envs >= 4  # Neo4j's and Redis's own, and kgrec's for each of them
