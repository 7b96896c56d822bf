"""`report.html` as a reader's browser shows it: every figure drawn, nothing run, nothing fetched."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pipelines.report_figures import FIGURES
from tests._support.run_dir import HOSTILE, write_run

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# per figure: its SVG's drawn size and how many of its data marks (id `<name>-data-<n>`) have an area
FIGURE_BOXES = """() => [...document.querySelectorAll('figure[data-figure]')].map(figure => {
  const svg = figure.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  const marks = svg ? [...svg.querySelectorAll(`[id^="${figure.dataset.figure}-data-"]`)] : [];
  const drawn = marks.filter(m => { const r = m.getBoundingClientRect(); return r.width > 0 && r.height > 0; });
  return {name: figure.dataset.figure, width: box.width, height: box.height, marks: marks.length,
          drawn: drawn.length, caption: figure.querySelector('figcaption').innerText};
})"""


@dataclass
class Opened:
    page: "Page"
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("full")).path / "report.html"


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("bare"), ctr=False, critic=False, trained=False).path / "report.html"


def _open(browser: "Browser", path: Path) -> Opened:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    opened = Opened(page)
    page.on("console", lambda m: opened.errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    page.on("dialog", lambda d: (opened.errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: opened.requests.append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    return opened


def test_every_figure_is_drawn_and_a_hostile_title_is_text(browser: "Browser", full: Path) -> None:
    opened = _open(browser, full)
    figures: list[dict[str, Any]] = opened.page.evaluate(FIGURE_BOXES)
    assert [f["name"] for f in figures] == list(FIGURES)
    for figure in figures:
        assert figure["width"] > 200 and figure["height"] > 100, figure
        assert figure["marks"] >= 1 and figure["drawn"] == figure["marks"], figure
    assert opened.errors == []
    assert opened.requests == [full.as_uri()]  # self-contained: nothing else is loaded
    title = opened.page.get_by_text("<script>window.__pwned = 1</script>", exact=False)
    assert title.count() == 1 and title.is_visible() and HOSTILE in title.inner_text()
    assert opened.page.evaluate("[window.__pwned, document.scripts.length, document.images.length]") == \
        [None, 0, 0]
    opened.page.close()


def test_a_run_without_critic_model_or_ctr_says_so_in_place_of_those_figures(browser: "Browser",
                                                                             bare: Path) -> None:
    opened = _open(browser, bare)
    figures = {f["name"]: f for f in opened.page.evaluate(FIGURE_BOXES)}
    assert {name for name, f in figures.items() if f["drawn"]} == {"stage-times", "extraction", "degree"}
    assert figures["ctr"]["caption"] == "Not in this run: the CTR evaluation is off (run.ctr is false)."
    assert figures["critic"]["width"] == 0 and figures["mrr"]["caption"].startswith("Not in this run")
    assert opened.errors == []
    opened.page.close()


def test_the_figures_fit_a_phone_wide_window(browser: "Browser", full: Path) -> None:
    page = browser.new_page(viewport={"width": 420, "height": 800})
    page.goto(full.as_uri())
    right = page.evaluate("[...document.querySelectorAll('figure svg')].map(s => s.getBoundingClientRect().right)")
    assert len(right) == len(FIGURES) and max(right) <= 420
    page.close()
