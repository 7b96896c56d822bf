"""The vLLM stage refuses, at start and by name, a Ray / vLLM pair it is not known to work with."""

import pytest

from kg.errors import ConfigError
from pipelines.extract.vllm_versions import KNOWN_GOOD, check_versions, installed_versions, release_series


def test_a_known_good_pair_passes_patch_releases_and_local_builds() -> None:
    check_versions({"ray": f"{KNOWN_GOOD['ray']}.1", "vllm": f"{KNOWN_GOOD['vllm']}.0+cpu"})


@pytest.mark.parametrize(("found", "named"), [
    ({"ray": f"{KNOWN_GOOD['ray']}.0", "vllm": "0.33.0"}, "vllm 0.33.0"),
    ({"ray": "2.59.0", "vllm": f"{KNOWN_GOOD['vllm']}.0"}, "ray 2.59.0"),
])
def test_a_mismatch_names_what_is_installed_and_what_works(found: dict[str, str | None], named: str) -> None:
    with pytest.raises(ConfigError, match="known to work with") as error:
        check_versions(found)
    assert named in str(error.value) and f"vllm {KNOWN_GOOD['vllm']}.*" in str(error.value)


def test_this_environment_is_read_from_installed_metadata() -> None:
    found = installed_versions()
    ray_version = found["ray"]
    assert ray_version is not None  # kgrec depends on Ray
    import ray

    assert release_series(ray_version) == release_series(ray.__version__)
    if found["vllm"] is None:  # the default environment: no vLLM, and the message says how to get it
        with pytest.raises(ConfigError, match="scripts/setup.sh vllm"):
            check_versions(found)
