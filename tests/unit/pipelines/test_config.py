"""Configuration: precedence, presets, and errors that name the key."""

from pathlib import Path

import pytest

from kg.errors import ConfigError
from pipelines.config import Settings, load_settings

INFRA = Path(__file__).resolve().parents[3] / "infra" / "configs"


def test_precedence_flags_over_env_over_file_over_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("candidates:\n  llm_budget: 3\n  top_k_per_item: 9\n")
    assert load_settings(config).candidates.llm_budget == 3
    monkeypatch.setenv("KGREC_CANDIDATES__LLM_BUDGET", "77")
    settings = load_settings(config)
    assert (settings.candidates.llm_budget, settings.candidates.top_k_per_item) == (77, 9)
    assert load_settings(config, {"candidates": {"llm_budget": 5}}).candidates.llm_budget == 5
    assert settings.candidates.min_pair_count == Settings().candidates.min_pair_count


def test_bad_value_names_key_value_and_where_to_fix_it(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("candidates:\n  llm_budget: lots\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    message = str(info.value)
    assert "candidates.llm_budget" in message and "'lots'" in message
    assert "KGREC_CANDIDATES__LLM_BUDGET" in message and str(config) in message


def test_unknown_key_is_an_error_not_ignored(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("candidates:\n  llm_budgt: 3\n")
    with pytest.raises(ConfigError, match=r"candidates\.llm_budgt: Extra inputs"):
        load_settings(config)


def test_unreadable_config_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("candidates: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad)
    top_list = tmp_path / "list.yaml"
    top_list.write_text("- 1\n")
    with pytest.raises(ConfigError, match="mapping of sections"):
        load_settings(top_list)


def test_files_source_without_events_path_is_refused() -> None:
    with pytest.raises(ConfigError, match="events_path is not set"):
        load_settings(None, {"run": {"source": "files"}})


@pytest.mark.parametrize("preset", sorted(p.name for p in INFRA.glob("*.yaml")))
def test_every_preset_loads(preset: str) -> None:
    load_settings(INFRA / preset)


def test_local_preset_matches_the_defaults_it_documents() -> None:
    local = load_settings(INFRA / "local.yaml")
    defaults = Settings()
    assert local.candidates == defaults.candidates
    assert local.synth.events == defaults.synth.events
    assert local.run == defaults.run
