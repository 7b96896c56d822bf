"""The deployment files, read as kubectl and docker would: infra/ YAML documents, the Dockerfile."""

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "infra"
CLUSTER_PRESET = INFRA / "configs" / "cluster.yaml"
RAYJOB = INFRA / "ray" / "rayjob.yaml"
DOCKERFILE = ROOT / "Dockerfile"


def kubernetes_documents() -> list[tuple[Path, dict[str, Any]]]:
    """Every Kubernetes object in infra/ (a document with apiVersion and kind), with its file."""
    documents = []
    for path in sorted(INFRA.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if isinstance(document, dict) and {"apiVersion", "kind"} <= document.keys():
                documents.append((path, document))
    return documents


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers of a pod spec, init containers included."""
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each Dockerfile line, continuations joined, comments dropped."""
    joined = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines()]
    return [(word.upper(), rest.strip()) for word, _, rest in
            (line.partition(" ") for line in lines if line and not line.startswith("#"))]


def dockerfile_value(instruction: str) -> str:
    """The arguments of the Dockerfile's one `instruction` (WORKDIR, FROM...)."""
    (value,) = [rest for word, rest in dockerfile_instructions() if word == instruction]
    return value


def in_repo(image_path: str) -> Path:
    """Where a path inside the image (under the Dockerfile's WORKDIR, a copy of the repo) is here."""
    return ROOT / Path(image_path).relative_to(dockerfile_value("WORKDIR"))
