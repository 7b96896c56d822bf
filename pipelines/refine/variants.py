"""The variant detector: is item b the same product as item a in another design, scent, size...?

Combines, as additive log-odds, what the catalog says about two items: the title alignment of a
fitted `TitleModel` (one short attribute-like span, the same product noun), the price band and
category and brand agreement (when both items have them), a text-embedding cosine when the
caller has one (computed elsewhere: this module imports no model code), and the colour/size/pack
word rule of `pipelines.extract.prefilter` as one more signal. The weights are set by reasoning
about each signal, not fitted to labels; a critic trained on curated labels can replace them,
reading the same `signals` (the title ones are `titles.FEATURES`, version `FEATURE_VERSION`).

Scale, for reading the weights: sigmoid(1.1) = 0.75, sigmoid(2.2) = 0.9, sigmoid(2.95) = 0.95.
`HERB MARKER THYME` / `HERB MARKER ROSEMARY` with prices in band, each herb in one title only
(attribute score 0.77): 0.948 when no other title fills `herb marker *`, left to the LLM;
0.967 when four herbs fill it (attribute evidence 0.88), answered without it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from kg.schema import KgrecModel
from pipelines.extract.prefilter import variant_answer
from pipelines.refine.titles import ATTRIBUTE_CUT, Alignment, TitleModel

VARIANT_THRESHOLD = 0.5  # score at or above: a variant (the more likely reading)
CONFIDENT_THRESHOLD = 0.95  # score at or above (or at or below 1 - it): sure enough to skip the LLM
BIAS = -2.0  # two titles are, a priori, not variants of each other
W_ATTRIBUTE = 4.0  # x `attribute_evidence`, for one short swapped span outside the product noun
W_INSERTION = 2.0  # x `attribute_evidence`, for a few extra tokens in one title (`set of 3`)
W_SAME_NOUN = 1.0  # both titles end in the same product noun
W_NOUN_DIFFERS = -4.0  # the differing span is a product noun: another kind of product
W_OVERLAP = 2.0  # x (overlap - 0.5): more of the title shared than swapped
W_WORDLIST = 3.0  # equal titles once colour, size and pack words are removed (the old rule)
W_PRICE_IN, W_PRICE_OUT = 0.5, -4.0  # prices within / beyond the band (both known)
W_CATEGORY_SAME, W_CATEGORY_DIFF = 0.3, -6.0  # equal / different (both known): near decisive
W_BRAND_SAME, W_BRAND_DIFF = 0.3, -6.0  # equal / different (both known): near decisive
W_TEXT, TEXT_PIVOT = 4.0, 0.75  # x (cosine - pivot), clipped to TEXT_CLIP
TEXT_CLIP = (-3.0, 1.5)
DEFAULT_PRICE_RATIO = 2.5
MAX_REASON_CHARS = 280  # fits `PairAnswer.rationale` with its `pre-filter: ` prefix


class VariantVerdict(KgrecModel):
    """Whether two items are variants of one product, how sure, and from which signals."""

    score: float = Field(ge=0.0, le=1.0, description="Probability-like variant score.")
    is_variant: bool = Field(description="score >= VARIANT_THRESHOLD.")
    confident: bool = Field(description="score >= CONFIDENT_THRESHOLD or <= 1 - CONFIDENT_THRESHOLD.")
    complement_candidate: bool = Field(
        description="The titles share an attribute (a design, a range) but differ in the product "
        "noun: a coordinated set worth asking about as a complement. A feature, not an answer.")
    reason: str = Field(description="The signals that decided, strongest first, in words.")
    signals: dict[str, float] = Field(
        description="Title features (when both titles are known), then the side signals that were "
        "known, then `logit`.")


class VariantDetector:
    """Judges item pairs against one catalog's fitted `TitleModel`.

    Items are mappings with `title` and optionally `category`, `brand` and `price` (missing,
    `None` or empty means unknown: the signal is left out, never counted against the pair). A
    missing title too: an empty title aligned with a real one would read as "the product noun
    differs", so without both titles the verdict rests on the side signals alone.
    """

    def __init__(self, titles: TitleModel, price_ratio: float = DEFAULT_PRICE_RATIO) -> None:
        self.titles = titles
        self.price_ratio = price_ratio

    def verdict(self, a: Mapping[str, Any], b: Mapping[str, Any],
                text_similarity: float | None = None) -> VariantVerdict:
        """The verdict for items `a` and `b`; `text_similarity` is their text-embedding cosine."""
        titled = bool(a.get("title")) and bool(b.get("title"))
        alignment = self.titles.align(a.get("title"), b.get("title"))
        signals = alignment.features() if titled else {}
        sides = self._side_parts(a, b, signals)
        parts = (_title_parts(alignment, wordlist=signals["wordlist"] == 1.0) if titled else []) + sides
        if text_similarity is not None:
            signals["text_similarity"] = text_similarity
            low, high = TEXT_CLIP
            weight = min(max(W_TEXT * (text_similarity - TEXT_PIVOT), low), high)
            parts.append((weight, f"text similarity {text_similarity:.2f}"))
        logit = BIAS + sum(weight for weight, _ in parts)
        signals["logit"] = logit
        score = 1.0 / (1.0 + math.exp(-logit))
        is_variant = score >= VARIANT_THRESHOLD
        return VariantVerdict(
            score=score, is_variant=is_variant,
            confident=score >= CONFIDENT_THRESHOLD or score <= 1.0 - CONFIDENT_THRESHOLD,
            complement_candidate=titled and alignment.differs_in_noun and not signals["wordlist"]
            and alignment.shared_attribute >= ATTRIBUTE_CUT,
            reason=_reason(score, is_variant, parts), signals=signals,
        )

    def _side_parts(self, a: Mapping[str, Any], b: Mapping[str, Any],
                    signals: dict[str, float]) -> list[tuple[float, str]]:
        """Word rule, price band, category and brand: (log-odds, words) for each known signal."""
        hit = variant_answer(dict(a), dict(b), self.price_ratio) is not None
        signals["wordlist"] = float(hit)
        parts = [(W_WORDLIST, "equal without colour/size/pack words")] if hit else []
        price_a, price_b = a.get("price"), b.get("price")
        if price_a and price_b and price_a > 0 and price_b > 0:
            ratio = max(price_a, price_b) / min(price_a, price_b)
            signals["price_ratio"] = ratio
            within = ratio <= self.price_ratio
            signals["price_within"] = float(within)
            parts.append((W_PRICE_IN, f"prices within {self.price_ratio:g}x") if within
                         else (W_PRICE_OUT, f"prices {ratio:.1f}x apart"))
        for name, same_w, diff_w in (("category", W_CATEGORY_SAME, W_CATEGORY_DIFF),
                                     ("brand", W_BRAND_SAME, W_BRAND_DIFF)):
            value_a, value_b = a.get(name), b.get(name)
            if value_a and value_b:
                same = value_a == value_b
                signals[f"{name}_same"] = float(same)
                parts.append((same_w, f"same {name}") if same else (diff_w, f"{name} differs"))
        return parts


def _title_parts(alignment: Alignment, wordlist: bool) -> list[tuple[float, str]]:
    """(log-odds, words) from the title alignment.

    With the word rule agreeing, the differing tokens are colour, size or pack words, so a head
    noun found among them was misread (`WICKER HEART SMALL`): the swap counts as an attribute's.
    """
    parts: list[tuple[float, str]] = []
    swapped = " / ".join(f"'{_words(x)}'->'{_words(y)}'" for x, y in alignment.differing()[:2])
    if alignment.differs_in_noun and not wordlist:
        parts.append((W_NOUN_DIFFERS, f"product noun differs ({swapped})"))
    elif alignment.one_span or alignment.insertion:
        weight = W_ATTRIBUTE if alignment.one_span else W_INSERTION
        what = "differ only in" if alignment.one_span else "one adds"
        evidence = attribute_evidence(alignment)
        slot = f", {alignment.slot_titles} titles fill the slot" if alignment.slot_titles > 2 else ""
        parts.append((weight * evidence, f"titles {what} {swapped} at the {alignment.position} "
                      f"(attribute score {alignment.span_attribute:.2f}{slot})"))
    if alignment.same_noun and not alignment.differs_in_noun:
        parts.append((W_SAME_NOUN, f"same product noun '{alignment.noun_a}'"))
    if alignment.spans:
        parts.append((W_OVERLAP * (alignment.overlap - 0.5), f"{alignment.overlap:.0%} of the title shared"))
    return parts


def attribute_evidence(alignment: Alignment) -> float:
    """0..1: how sure the swapped span is an attribute, from its tokens and from its slot.

    The tokens' catalog-wide score and the breadth of this very template (k titles fill it:
    (k - 2) / k, 0 for the pair alone) combine as a noisy-OR. A number used everywhere (`4` of
    `SET OF 4`) scores low as a token, yet ten door signs numbered 0 to 9 make its slot sure.
    The template also fed the token scores, so this counts some evidence twice: it leans
    towards variants where a slot is broad, which is where variants are.
    """
    k = alignment.slot_titles
    slot = (k - 2) / k if k > 2 else 0.0
    return 1.0 - (1.0 - alignment.span_attribute) * (1.0 - slot)


def _words(tokens: tuple[str, ...]) -> str:
    return " ".join(tokens)[:30] or "-"


def _reason(score: float, is_variant: bool, parts: list[tuple[float, str]]) -> str:
    """The parts pushing towards the decision, strongest first, within `MAX_REASON_CHARS`."""
    deciding = sorted((p for p in parts if (p[0] > 0) == is_variant and p[0] != 0), key=lambda p: -abs(p[0]))
    head = f"{'variant' if is_variant else 'not a variant'} ({score:.2f})"
    text = head + (": " + "; ".join(words for _, words in deciding) if deciding else ": no signal for it")
    return text if len(text) <= MAX_REASON_CHARS else text[:MAX_REASON_CHARS - 3] + "..."
