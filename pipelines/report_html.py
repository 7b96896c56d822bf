"""`report.html`: the run report as a page a person would rather look at, beside `report.md`.

One self-contained file: inline CSS, the figures as inline SVG (`pipelines.report_figures`),
and `report.md` itself rendered below them, so every table of the text report is there too and
the two never disagree. No script and no external resource: the page opens offline, from a
file, a CI artifact or a mail, and its Content-Security-Policy forbids scripts and remote loads
should a value ever slip through as markup. None does: every value from the data is escaped
(item titles, model names, errors), markdown's raw HTML is off, and so are its links and images,
so a title cannot make the page fetch anything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

from pipelines.manifest import RunDirectory, RunManifest
from pipelines.report_figures import Panel, panels

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CSS = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 24px; color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.2em; margin: 1.6em 0 .6em; }
header p { margin: 2px 0; color: var(--muted); }
.status { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: .85em; color: #fff; }
.status-succeeded { background: #1a7f37; } .status-failed { background: #cf222e; }
.error { background: #ffebe9; border: 1px solid #ff8182; padding: 8px 12px; border-radius: 6px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(520px, 100%), 1fr)); gap: 16px; }
figure { margin: 0; padding: 12px 14px; background: var(--panel); border: 1px solid var(--line);
         border-radius: 8px; }
figure h3 { margin: 0 0 6px; font-size: 1em; }
figure svg { display: block; width: 100%; height: auto; background: #fff; border-radius: 4px; }
figcaption { color: var(--muted); font-size: .9em; margin-top: 6px; }
figure.absent figcaption { font-style: italic; }
.text-report { border-top: 1px solid var(--line); margin-top: 2em; }
.text-report h1 { font-size: 1.3em; } .text-report h2 { font-size: 1.1em; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: .9em; display: block; overflow-x: auto; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); }
code { background: var(--panel); padding: 0 4px; border-radius: 4px; }
"""


def render_html(run_dir: Path, manifest: RunManifest, markdown: str | None) -> str:
    """The whole page for the run in `run_dir`; `markdown` is its `report.md` (None: not written)."""
    text = (f'<section class="text-report">{_markdown(markdown)}</section>' if markdown is not None
            else '<p class="absent">report.md was not written.</p>')
    figures = "\n".join(_figure(panel) for panel in panels(run_dir, manifest))
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>kgrec run {escape(manifest.run_id)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f'{_header(manifest)}\n<h2>Figures</h2>\n<div class="figures">\n{figures}\n</div>\n{text}\n'
            "</body>\n</html>\n")


def write_html(run: RunDirectory) -> Path:
    """Write `report.html` beside the run's `report.md` (written first) and return its path."""
    markdown_path = run.path / "report.md"
    markdown = markdown_path.read_text() if markdown_path.exists() else None
    path = run.path / "report.html"
    path.write_text(render_html(run.path, run.manifest, markdown))
    return path


def _header(manifest: RunManifest) -> str:
    """Run id, status, times and versions; the error of a failed run in full."""
    wall = sum(s.wall_s for s in manifest.stages)
    ended = manifest.finished_at or datetime.now(UTC)
    lines = [f"started {manifest.started_at:%Y-%m-%d %H:%M:%S} UTC, "
             f"{'finished' if manifest.finished_at else 'report written'} {ended:%Y-%m-%d %H:%M:%S} UTC; "
             f"{len(manifest.stages)} stages, {wall:,.1f} s of stage time",
             f"kgrec {manifest.packages.get('kgrec', '?')}, Python {manifest.python}, "
             f"Ray {manifest.packages.get('ray', '?')}, torch {manifest.packages.get('torch', '?')}"]
    # `kgrec run` writes the report just before it closes the run: 'running' there means 'finishing'
    status = (f' <span class="status status-{manifest.status}">{manifest.status}</span>'
              if manifest.status != "running" else "")
    error = f'<p class="error">{escape(manifest.error)}</p>' if manifest.error else ""
    return (f"<header>\n<h1>kgrec run {escape(manifest.run_id)}{status}</h1>\n"
            + "".join(f"<p>{escape(line)}</p>\n" for line in lines) + f"{error}</header>")


def _figure(panel: Panel) -> str:
    """One figure with its title and caption; an absent one is its note alone."""
    kind = "drawn" if panel.svg is not None else "absent"
    return (f'<figure class="{kind}" id="figure-{panel.name}" data-figure="{panel.name}">\n'
            f"<h3>{escape(panel.title)}</h3>\n{panel.svg or ''}\n"
            f"<figcaption>{escape(panel.text)}</figcaption>\n</figure>")


def _markdown(text: str) -> str:
    """`report.md` as HTML: CommonMark plus tables; raw HTML escaped, links and images left as text."""
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    html: str = renderer.disable(["link", "image", "autolink"]).render(text)
    return html
