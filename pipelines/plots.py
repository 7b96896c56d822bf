"""The run report's figures: matplotlib (no pyplot, no display backend) drawn straight to inline SVG.

Why SVG from matplotlib: `report.html` must be one file that opens offline, without a CDN or
any JavaScript, and SVG scales with the page. Text stays text (`svg.fonttype: none`): it can be
searched and copied, and matplotlib's XML writer escapes it, so a label taken from the data
(an item title, a model name) is never markup. Mathtext is off: a `$` in a name is a dollar sign.

Every drawing function takes plain values and returns one `<svg>` element whose data artists
(bars, points, lines) have the id `data`; `scoped` then prefixes every id with the figure's
name and numbers repeats (`<name>-data-1`, ...), so several figures share a page without
sharing an id, and a reader (or a test) can find each figure's marks. matplotlib is imported
on first use only, so importing the pipeline stays light.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none", "text.parse_math": False, "svg.hashsalt": "kgrec",  # stable ids
    "font.size": 9, "font.family": "sans-serif", "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "axes.axisbelow": True, "grid.color": "#dde1e6", "grid.linewidth": 0.6,
}
PALETTE = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#a463f2", "#97bbf5", "#9c6b4e")
WIDTH_IN = 6.4
_ID = re.compile(r'\bid="([^"]+)"')
P = ParamSpec("P")


def _styled(draw: Callable[P, str]) -> Callable[P, str]:
    """Run `draw` under the report's style: matplotlib reads most settings when an artist is made."""

    @functools.wraps(draw)
    def styled(*args: P.args, **kwargs: P.kwargs) -> str:
        from matplotlib import rc_context

        with rc_context(STYLE):
            return draw(*args, **kwargs)

    return styled


@_styled
def horizontal_bars(labels: Sequence[str], values: Sequence[float], xlabel: str) -> str:
    """One bar per label, top to bottom in the given order, each with its value written beside it."""
    fig, ax = _figure(0.8 + 0.28 * len(labels))
    bars = ax.barh(list(labels), list(values), color=PALETTE[0])
    ax.invert_yaxis()
    ax.bar_label(bars, fmt="%.1f", padding=3)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    _mark(bars)
    return _svg(fig)


@_styled
def stacked_bars(categories: Sequence[str], stacks: Mapping[str, Sequence[int]], xlabel: str) -> str:
    """Horizontal bars per category, split into `stacks` (stack name -> one count per category).

    A zero count draws no segment (an empty rectangle would be a mark of no size).
    """
    fig, ax = _figure(1.0 + 0.3 * len(categories))
    left = [0] * len(categories)
    for colour, (stack, counts) in zip(PALETTE, stacks.items(), strict=False):
        rows = [i for i, count in enumerate(counts) if count]
        bars = ax.barh(rows, [counts[i] for i in rows], left=[left[i] for i in rows], label=stack,
                       color=colour)
        _mark(bars)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    ax.set_yticks(range(len(categories)), list(categories))
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    fig.legend(loc="outside upper center", ncols=len(stacks), frameon=False)
    return _svg(fig)


@_styled
def histograms(series: Mapping[str, Sequence[float]], xlabel: str,
               threshold: float | None = None) -> str:
    """Step histograms of values in [0, 1] (one per series, 20 bins), with an optional threshold line."""
    fig, ax = _figure(2.6)
    for colour, (label, values) in zip(PALETTE, series.items(), strict=False):
        *_, patches = ax.hist(list(values), bins=20, range=(0.0, 1.0), histtype="step", linewidth=1.6,
                              color=colour, label=f"{label} ({len(values)})")
        _mark(patches if isinstance(patches, list) else [patches])
    if threshold is not None:
        ax.axvline(threshold, color="#555", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("pairs")
    ax.legend(frameon=False)
    return _svg(fig)


@_styled
def degree_distribution(degrees: Sequence[int], nodes: Sequence[int]) -> str:
    """Nodes per degree on log-log axes, the usual view of a heavy-tailed graph."""
    fig, ax = _figure(2.6)
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    points = ax.scatter(list(degrees), list(nodes), s=14, color=PALETTE[0])
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):  # 1-2-5 ticks read on a short range too, as plain numbers
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # not mathtext: it is off
        axis.set_minor_locator(NullLocator())
    ax.set_xlabel("degree (distinct neighbours)")
    ax.set_ylabel("nodes")
    _mark([points])
    return _svg(fig)


@_styled
def epoch_curve(epochs: Sequence[int], values: Sequence[float], ylabel: str, best: int | None,
                reference: tuple[str, float] | None = None) -> str:
    """A metric per epoch, the best epoch ringed, and an optional labelled horizontal reference."""
    fig, ax = _figure(2.6)
    lines = ax.plot(list(epochs), list(values), marker="o", color=PALETTE[0], label=ylabel)
    _mark(lines)
    if best is not None and best in epochs:
        ax.scatter([best], [values[list(epochs).index(best)]], s=120, facecolors="none",
                   edgecolors=PALETTE[2], linewidths=1.5, label=f"best epoch ({best})", zorder=3)
    if reference is not None:
        ax.axhline(reference[1], color="#555", linestyle=":", linewidth=1, label=reference[0])
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_xticks(list(epochs))
    ax.legend(frameon=False)
    return _svg(fig)


@_styled
def grouped_error_bars(groups: Mapping[str, Mapping[str, tuple[float, float]]], ylabel: str,
                       chance: float | None = None) -> str:
    """Bars of means with ± error bars: group (x) -> member (bar colour) -> (mean, error)."""
    members = list(dict.fromkeys(m for bars in groups.values() for m in bars))
    width = 0.8 / max(len(members), 1)
    fig, ax = _figure(2.8)
    for i, (colour, member) in enumerate(zip(PALETTE, members, strict=False)):
        offset = (i - (len(members) - 1) / 2) * width
        present = [(x, bars[member]) for x, bars in enumerate(groups.values()) if member in bars]
        bars_ = ax.bar([x + offset for x, _ in present], [v[0] for _, v in present], width * 0.92,
                       yerr=[v[1] for _, v in present], capsize=3, color=colour, label=member)
        ax.bar_label(bars_, fmt="%.3f", padding=2, fontsize=7)
        _mark(bars_)
    if chance is not None:
        ax.axhline(chance, color="#555", linestyle="--", linewidth=1, label=f"chance ({chance:g})")
    ax.set_xticks(range(len(groups)), list(groups))
    ax.set_ylim(*_limits([v for bars in groups.values() for v in bars.values()], chance))
    ax.set_ylabel(ylabel)
    ax.grid(axis="x", visible=False)
    fig.legend(loc="outside upper center", ncols=len(members) + 1, frameon=False)
    return _svg(fig)


def _limits(bars: Iterable[tuple[float, float]], chance: float | None) -> tuple[float, float]:
    """A y range that shows the differences between bars (near 0.5, AUCs differ in the 2nd decimal)."""
    spans = [(mean - error, mean + error) for mean, error in bars]
    low = min([s[0] for s in spans] + ([chance] if chance is not None else []))
    high = max([s[1] for s in spans] + ([chance] if chance is not None else []))
    pad = max((high - low) * 0.25, 0.02)
    return max(0.0, low - pad), min(1.0, high + pad)


def _figure(height_in: float) -> tuple[Figure, Axes]:
    """A figure of the report's width; no pyplot, so no global figure registry and no display."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
    return fig, fig.subplots()


def _mark(artists: Iterable[Any]) -> None:
    """Give each data artist the id `data` (made unique in the page by `scoped`)."""
    for artist in artists:
        artist.set_gid("data")


def _svg(fig: Figure) -> str:
    """The figure as one `<svg>` element, without the XML prolog and metadata a page has no use for."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.DOTALL)


def scoped(svg: str, prefix: str) -> str:
    """`svg` with every id prefixed by `prefix` (references too); `data` and repeated ids numbered.

    matplotlib names clip paths and markers by a hash of their geometry, so two figures of one
    page can hold the same id, and a reference (`url(#…)`, `href="#…"`) would then resolve into
    the wrong figure. References point at defined clip paths and markers, which occur once.
    """
    seen: dict[str, int] = {}

    def rename(match: re.Match[str]) -> str:
        old = match.group(1)
        seen[old] = seen.get(old, 0) + 1
        numbered = old == "data" or seen[old] > 1
        return f'id="{prefix}-{old}-{seen[old]}"' if numbered else f'id="{prefix}-{old}"'

    renamed = _ID.sub(rename, svg)
    for old in seen:
        renamed = renamed.replace(f"#{old})", f"#{prefix}-{old})").replace(f'href="#{old}"',
                                                                          f'href="#{prefix}-{old}"')
    return renamed
