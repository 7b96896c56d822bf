"""report.html from a small run directory in the stages' real layouts (tests/_support/run_dir.py)."""

import json
import re
from pathlib import Path

import pytest

from pipelines.manifest import RunManifest
from pipelines.report_figures import FIGURES, panels
from pipelines.report_html import render_html
from tests._support.run_dir import HOSTILE, write_run


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("full")).path


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("bare"), ctr=False, critic=False, trained=False).path


def _figures(page: str) -> dict[str, str]:
    return dict(re.findall(r'<figure class="\w+" id="figure-[\w-]+" data-figure="([\w-]+)">(.*?)</figure>',
                           page, re.DOTALL))


def test_every_figure_is_drawn_from_a_complete_run(full: Path) -> None:
    page = (full / "report.html").read_text()
    figures = _figures(page)
    assert list(figures) == list(FIGURES)
    for name, body in figures.items():
        assert "<svg" in body and f'id="{name}-data-1"' in body, name
    assert "Not in this run" not in page and "Could not be drawn" not in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_values_from_the_data_are_text_and_the_page_loads_nothing(full: Path) -> None:
    page = (full / "report.html").read_text()
    assert "<script" not in page and "<img" not in page
    assert not re.search(r"<[^>]*\son\w+=", page)  # no tag carries an event handler
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page  # the title, from report.md's table
    assert "SmolLM2 &lt;b&gt;bold&lt;/b&gt;" in page  # a manifest value, in a caption and in the text
    assert not re.search(r'\b(src|href)="(?!#)', page)  # only in-page references (SVG clip paths)
    assert "Content-Security-Policy" in page and "script-src" not in page  # default-src 'none' covers it
    assert HOSTILE not in page


def test_a_figure_without_its_input_is_a_note(bare: Path) -> None:
    figures = _figures((bare / "report.html").read_text())
    assert "<svg" in figures["stage-times"] and "<svg" in figures["extraction"] and "<svg" in figures["degree"]
    notes = {name: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
             for name, body in figures.items() if "<svg" not in body}
    assert notes == {
        "critic": "Critic scores Not in this run: no critic scored the pairs (critic: none).",
        "mrr": "Temporal model: validation MRR Not in this run: the temporal model was not trained.",
        "ctr": "Rankers: CTR test AUC per arm Not in this run: the CTR evaluation is off (run.ctr is false).",
    }


def test_a_figure_that_fails_to_draw_leaves_the_others(full: Path, tmp_path: Path) -> None:
    manifest = RunManifest.model_validate_json((full / "manifest.json").read_text())
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "train.json").write_text(json.dumps({"epochs": [{"epoch": 1}]}))
    found = {p.name: p for p in panels(tmp_path, manifest)}
    assert found["mrr"].svg is None and found["mrr"].text == "Could not be drawn: KeyError: 'val'"
    assert found["stage-times"].svg is not None


def test_a_failed_run_shows_its_error_escaped(full: Path) -> None:
    manifest = RunManifest.model_validate_json((full / "manifest.json").read_text())
    manifest = manifest.model_copy(update={"status": "failed", "error": "StageOutputError: <b>x</b>"})
    page = render_html(full, manifest, None)
    assert 'status-failed">failed</span>' in page and "StageOutputError: &lt;b&gt;x&lt;/b&gt;" in page
    assert "report.md was not written." in page
