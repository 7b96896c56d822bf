"""Cheap knowledge first: label obvious variants without an LLM call.

Co-occurrence ranks variant pairs highest (people compare a rain mac in blue and in pink), so
answering them without a model saves many LLM calls; such answers say in their provenance
(`PREFILTER_MODEL`, `PREFILTER_VERSION`) that no model was asked. Since v2 the decision is the
learned detector's (`pipelines.refine.variants`: title structure learned from the catalog,
prices, categories, brands), and the word rule here is one of its signals: two items whose
titles are equal once colour, size and pack words are removed, in the same category and within
a price band.
"""

from __future__ import annotations

import re
from typing import Any

from pipelines.extract.answers import PairAnswer

PREFILTER_MODEL = "prefilter:title-variant"
PREFILTER_VERSION = "prefilter.v2"  # v2: answers come from the learned variant detector

_COLOURS = (
    "red white blue green black yellow orange pink purple violet brown grey gray silver gold "
    "beige cream ivory navy teal turquoise aqua cyan magenta lilac lavender plum maroon burgundy "
    "charcoal sand khaki olive mint coral peach rose tan copper bronze natural clear transparent "
    "multicolour multicolor rainbow"
)
_COLOUR_MODIFIERS = "light dark pale bright deep sky forest sunset royal baby hot neon pastel matte metallic"
_SIZES = "xxs xs s m l xl xxl xxxl 2xl 3xl 4xl small medium large mini family king queen petite tall"
_WORDS = set((_COLOURS + " " + _COLOUR_MODIFIERS + " " + _SIZES).split())
_PATTERNS = re.compile(
    r"\b(pack|set|box|case|bag) of \d+\b|\b\d+\s*-?\s*(pack|pk|pcs|pieces|count|ct)\b|\bbulk \d+\b|"
    r"\b(twin|double|triple|single) pack\b|\bsingle\b|\bx\s?\d+\b|"
    r"\b\d+(\.\d+)?\s*(mm|cm|m|ml|cl|l|g|kg|oz|lb|lbs|in|inch|ft)\b",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[^\w\s]+")


def base_title(title: str | None) -> str:
    """The title with colour, size and pack words removed, lower-cased, single-spaced."""
    if not title:
        return ""
    text = _PATTERNS.sub(" ", title.lower())
    text = _NON_WORD.sub(" ", text)
    return " ".join(word for word in text.split() if word not in _WORDS)


def variant_answer(a: dict[str, Any], b: dict[str, Any], price_ratio: float) -> PairAnswer | None:
    """A 'variant' answer when the rule applies to items `a` and `b` (title, category, price)."""
    base_a, base_b = base_title(a.get("title")), base_title(b.get("title"))
    if not base_a or base_a != base_b:
        return None
    if a.get("category") and b.get("category") and a["category"] != b["category"]:
        return None
    price_a, price_b = a.get("price"), b.get("price")
    if (price_a and price_b and price_a > 0 and price_b > 0
            and max(price_a, price_b) / min(price_a, price_b) > price_ratio):
        return None
    return PairAnswer(
        relation="variant", direction="none", confidence=0.9,
        rationale=f"pre-filter: titles equal without colour/size/pack words ('{base_a[:80]}'), "
        f"same category, prices within {price_ratio:g}x",
    )
