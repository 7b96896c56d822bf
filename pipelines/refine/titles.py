"""Title structure learned from the catalog itself: attribute values, product nouns, alignments.

Real catalogs rarely name their variants with colour or size words: one product comes with a
design (`DOLLY GIRL` / `SPACEBOY`), a scent, a number or a herb. What such words share is their
*role*: they replace each other in otherwise equal titles. For each distinct title and each
contiguous span of 1..`MAX_SPAN` tokens, the title with the span cut out is a *template*; one
filled by two or more titles is substitution evidence for its fillers. A token that is a filler
in most titles it occurs in is an attribute value; one that ends titles (or their first
segment, or stands before a varying tail of non-nouns: `HERB MARKER *`) is a product noun.
Counting is one hash per (title, span) and a sort: linear in items x title length, never over
pairs. Measured on the 2-core dev machine: 50,000 distinct synthetic titles of 4-8 tokens (705k
templates) fit in 1.1-1.6 s (0.25 s counting, the rest tokenizing), 76 MiB peak traced memory.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

import numpy as np
import numpy.typing as npt

FEATURE_VERSION = "titles.v1"
MAX_SPAN = 3  # longest replaced span: a design or scent name of up to three words
MAX_TOKENS = 64  # longer titles are cut: their tails hold no variant structure worth the templates
ATTRIBUTE_CUT = 0.5  # at or above: an attribute value (a shared one makes a coordinated set)
# attribute = (titles where it is a filler + PRIOR_WEIGHT * prior) / (its titles + PRIOR_WEIGHT):
#   a token of one title, a filler there, scores (1 + 0.15) / 1.5 = 0.77.
# noun = (titles it ends + END_PRIOR_WEIGHT * END_PRIOR) / (its titles + END_PRIOR_WEIGHT)
#        * (1 - NOUN_ATTRIBUTE_DISCOUNT * attribute); "ends": see the module docstring.
PRIOR_WEIGHT = 0.5
WORD_PRIOR = 0.3  # a word no template speaks for leans towards being part of the product
NUMBER_PRIOR = 0.7  # a number no template speaks for leans towards being a size or count
END_PRIOR, END_PRIOR_WEIGHT = 0.2, 2.0  # a rare last word is not a noun just for being last
NOUN_ATTRIBUTE_DISCOUNT = 0.8  # not 1: in a full design x product grid every token is a filler
NOUN_TIE = 0.95  # noun scores within 5% of the best tie; ties go to the rightmost token
Position = Literal["head", "middle", "tail", "none"]
Span = tuple[int, int, int, int]  # (i1, i2, j1, j2), difflib's: tokens a[i1:i2] stand where b[j1:j2] do
_Slots = tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]  # shared templates: sorted keys, titles

# Ordered: a classifier's columns. Bump FEATURE_VERSION when names, order or meaning change.
FEATURES: tuple[str, ...] = (
    "one_span",          # 1: equal but for one replaced span of 1..MAX_SPAN tokens on each side
    "insertion",         # 1: equal but for 1..MAX_SPAN tokens present in one title only
    "n_spans",           # differing places (0 when the titles are equal)
    "span_tokens",       # tokens on the longer side of the differing places, summed
    "pos_head", "pos_middle", "pos_tail",  # one-hot position of the single differing place
    "jaccard",           # |shared tokens| / |all tokens|, as sets
    "overlap",           # matched tokens / tokens of the longer title
    "length_ratio",      # shorter / longer title, in tokens
    "span_attribute",    # 0..1: how attribute-like the differing tokens are (weaker side)
    "span_noun",         # 0..1: highest product-noun score among the differing tokens
    "span_numeric",      # 1: both sides of every differing place hold a number
    "slot_titles",       # distinct catalog titles filling the template of a one_span pair (else 0)
    "shared_attribute",  # 0..1: highest attribute score among shared tokens other than the noun
    "same_noun",         # 1: both titles have the same head noun
    "differs_in_noun",   # 1: a head noun lies inside a differing place
)

_TOKEN = re.compile(r"\d+(?:[.,]\d+)+[^\W\d_]*|[^\W_]+(?:['’\-][^\W_]+)*")
_DIGIT = re.compile(r"\d")
_SEGMENT_BREAK = re.compile(r"[,;:|()\[\]]|\s[-–—]+\s")


@dataclass(frozen=True)
class Title:
    """A title as tokens; `head_len`: its first segment's, less trailing numbers (noun territory)."""

    tokens: tuple[str, ...]
    head_len: int


def tokenize(title: str | None) -> Title:
    """Case-folded, NFKC-normalized word and number tokens of a title (at most `MAX_TOKENS`).

    `t-light`, `poppy's` and `1.5kg` stay whole; other punctuation separates. Commas, brackets,
    colons and spaced dashes end the first segment (`Lantern, Forest Green`: noun in `lantern`);
    trailing numbers leave it too (`Whole Milk 1L`: `milk`). `None` gives no tokens.
    """
    text = unicodedata.normalize("NFKC", title or "").casefold()
    segments = [found for part in _SEGMENT_BREAK.split(text) if (found := _TOKEN.findall(part))]
    tokens = tuple(token for segment in segments for token in segment)[:MAX_TOKENS]
    if not tokens:
        return Title((), 0)
    head_len = min(len(segments[0]), len(tokens))
    while head_len > 1 and is_numeric(tokens[head_len - 1]):
        head_len -= 1
    return Title(tokens, head_len)


def is_numeric(token: str) -> bool:
    """Whether a token holds a digit (sizes, counts, model numbers)."""
    return _DIGIT.search(token) is not None


@dataclass(frozen=True)
class FitStats:
    """What a fit saw: distinct titles, distinct tokens, templates and the shared ones."""

    titles: int
    vocabulary: int
    templates: int
    shared_templates: int


@dataclass(frozen=True)
class Alignment:
    """How two titles differ, read through a fitted `TitleModel`. See `FEATURES`."""

    a: Title
    b: Title
    spans: tuple[Span, ...]
    one_span: bool
    insertion: bool
    position: Position
    jaccard: float
    overlap: float
    span_attribute: float
    span_noun: float
    span_numeric: bool
    slot_titles: int
    shared_attribute: float
    noun_a: str | None
    noun_b: str | None
    same_noun: bool
    differs_in_noun: bool

    def differing(self) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
        """The (a tokens, b tokens) of each differing place, in title order."""
        return [(self.a.tokens[i1:i2], self.b.tokens[j1:j2]) for i1, i2, j1, j2 in self.spans]

    def features(self) -> dict[str, float]:
        """The `FEATURES` in order, as floats (booleans 0/1), for version `FEATURE_VERSION`."""
        longer = max(len(self.a.tokens), len(self.b.tokens)) or 1
        values = (self.one_span, self.insertion, len(self.spans),
                  sum(max(i2 - i1, j2 - j1) for i1, i2, j1, j2 in self.spans),
                  self.position == "head", self.position == "middle", self.position == "tail",
                  self.jaccard, self.overlap, min(len(self.a.tokens), len(self.b.tokens)) / longer,
                  self.span_attribute, self.span_noun, self.span_numeric, self.slot_titles,
                  self.shared_attribute, self.same_noun, self.differs_in_noun)
        return {name: float(value) for name, value in zip(FEATURES, values, strict=True)}


class TitleModel:
    """Per-token attribute and product-noun scores learned from one catalog's titles.

    Unseen tokens get the priors (`NUMBER_PRIOR` or `WORD_PRIOR`; `END_PRIOR`). The model is
    plain data (picklable).
    """

    def __init__(self, attribute: dict[str, float], noun: dict[str, float], slots: _Slots,
                 stats: FitStats) -> None:
        self._attribute = attribute
        self._noun = noun
        self._ids = {token: i for i, token in enumerate(attribute)}  # the fit's vocabulary ids
        self._slots = slots
        self.stats = stats

    @classmethod
    def fit(cls, titles: Iterable[str | None]) -> TitleModel:
        """Learn from the distinct tokenized titles in `titles` (duplicates and empties ignored)."""
        corpus, vocab = _encode(titles)
        attribute, noun, templates, slots = _fit_scores(corpus)
        return cls(dict(zip(vocab, attribute.tolist(), strict=True)),
                   dict(zip(vocab, noun.tolist(), strict=True)), slots,
                   FitStats(len(corpus.lengths), len(vocab), templates, len(slots[0])))

    def slot_titles(self, title: Title, start: int, stop: int) -> int:
        """Distinct catalog titles filling `title` less `tokens[start:stop]`; 0 if under 2 or unseen."""
        ids = [self._ids.get(t, -1) if not start <= i < stop else 0 for i, t in enumerate(title.tokens)]
        if -1 in ids or not 1 <= stop - start <= MAX_SPAN or len(ids) == stop - start:
            return 0
        one = _Corpus(np.asarray(ids, dtype=np.int64), np.array([len(ids)]), np.array([len(ids)]),
                      np.zeros(0, dtype=bool), np.array([0]))
        key = _template_keys(one, _Cuts(np.array([0]), np.array([start]), np.array([stop - start])))[0]
        keys, sizes = self._slots
        at = int(np.searchsorted(keys, key))
        return int(sizes[at]) if at < len(keys) and keys[at] == key else 0

    def attribute_score(self, token: str) -> float:
        """0..1: how often the token is the part that changes between otherwise equal titles."""
        if (found := self._attribute.get(token)) is not None:
            return found
        return NUMBER_PRIOR if is_numeric(token) else WORD_PRIOR

    def noun_score(self, token: str) -> float:
        """0..1: how product-noun-like the token is: it ends its titles and is rarely swapped."""
        if (found := self._noun.get(token)) is not None:
            return found
        return END_PRIOR * (1.0 - NOUN_ATTRIBUTE_DISCOUNT * self.attribute_score(token))

    def head(self, title: Title) -> int | None:
        """Index of the head noun: the first segment's token with the highest noun score.

        Numbers are no candidates when a word is. Near-ties (`NOUN_TIE`) go to the rightmost
        token, as English puts the noun last. `None` for a title without tokens.
        """
        words = [i for i in range(title.head_len) if not is_numeric(title.tokens[i])]
        candidates = words or list(range(title.head_len))  # a number is a size or count, not a noun
        if not candidates:
            return None
        scores = {i: self.noun_score(title.tokens[i]) for i in candidates}
        best = max(scores.values())
        return max(i for i, score in scores.items() if score >= NOUN_TIE * best)

    def align(self, a: str | None, b: str | None) -> Alignment:
        """Align two titles token by token (difflib) and score their differences."""
        ta, tb = tokenize(a), tokenize(b)
        opcodes = SequenceMatcher(None, ta.tokens, tb.tokens, autojunk=False).get_opcodes()
        spans = tuple((i1, i2, j1, j2) for tag, i1, i2, j1, j2 in opcodes if tag != "equal")
        shared = [i for tag, i1, i2, _, _ in opcodes if tag == "equal" for i in range(i1, i2)]
        head_a, head_b = self.head(ta), self.head(tb)
        noun_a = ta.tokens[head_a] if head_a is not None else None
        noun_b = tb.tokens[head_b] if head_b is not None else None
        in_a = head_a is not None and any(i1 <= head_a < i2 for i1, i2, _, _ in spans)
        in_b = head_b is not None and any(j1 <= head_b < j2 for _, _, j1, j2 in spans)
        side_a = [t for i1, i2, _, _ in spans for t in ta.tokens[i1:i2]]
        side_b = [t for _, _, j1, j2 in spans for t in tb.tokens[j1:j2]]
        kind, position = _shape(spans, shared, ta, tb)
        slot = self.slot_titles(ta, spans[0][0], spans[0][1]) if kind == "replace" else 0
        union = set(ta.tokens) | set(tb.tokens)
        return Alignment(
            a=ta, b=tb, spans=spans, one_span=kind == "replace", insertion=kind == "insert",
            position=position,
            jaccard=len(set(ta.tokens) & set(tb.tokens)) / len(union) if union else 0.0,
            overlap=len(shared) / (max(len(ta.tokens), len(tb.tokens)) or 1),
            span_attribute=self._side_attribute(side_a, side_b),
            span_noun=max((self.noun_score(t) for t in side_a + side_b), default=0.0),
            span_numeric=bool(spans) and all(any(map(is_numeric, ta.tokens[i1:i2]))
                                             and any(map(is_numeric, tb.tokens[j1:j2]))
                                             for i1, i2, j1, j2 in spans),
            slot_titles=slot,
            shared_attribute=max((self.attribute_score(ta.tokens[i]) for i in shared if i != head_a),
                                 default=0.0),
            noun_a=noun_a, noun_b=noun_b, same_noun=noun_a is not None and noun_a == noun_b,
            differs_in_noun=in_a or in_b,
        )

    def _side_attribute(self, side_a: list[str], side_b: list[str]) -> float:
        """The weaker side's mean attribute score; one side when the other is empty; 0 if both."""
        means = [sum(map(self.attribute_score, side)) / len(side) for side in (side_a, side_b) if side]
        return min(means, default=0.0)


def _shape(spans: tuple[Span, ...], shared: list[int], a: Title, b: Title) -> tuple[str, Position]:
    """Kind (`replace`, `insert`, `other`) and position of the one differing place; else `none`s."""
    if len(spans) != 1 or not shared:
        return "none", "none"
    i1, i2, j1, j2 = spans[0]
    kind = "other" if max(i2 - i1, j2 - j1) > MAX_SPAN else "replace" if i2 > i1 and j2 > j1 else "insert"
    if i1 == 0 and j1 == 0:
        return kind, "head"
    return kind, "tail" if i2 == len(a.tokens) and j2 == len(b.tokens) else "middle"


@dataclass(frozen=True)
class _Corpus:
    """Distinct titles as flat token ids: title t is `ids[starts[t]:starts[t] + lengths[t]]`."""

    ids: npt.NDArray[np.int64]
    lengths: npt.NDArray[np.int64]
    head_lens: npt.NDArray[np.int64]
    numeric: npt.NDArray[np.bool_]  # per vocabulary id
    starts: npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Cuts:
    """Every (title, span) cut: its template is the title without tokens [start, start + width)."""

    title: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]
    width: npt.NDArray[np.int64]


def _encode(titles: Iterable[str | None]) -> tuple[_Corpus, list[str]]:
    """Distinct tokenized titles as flat token ids, plus the vocabulary in id order.

    Distinct by a hash of the token tuple: one int per title in memory (a collision drops one).
    """
    seen: set[int] = set()
    vocab: dict[str, int] = {}
    ids: list[int] = []
    shapes: list[tuple[int, int]] = []  # (tokens, first-segment tokens) per distinct title
    for title in map(tokenize, titles):
        if title.tokens and (fingerprint := hash(title.tokens)) not in seen:
            seen.add(fingerprint)
            ids.extend(vocab.setdefault(token, len(vocab)) for token in title.tokens)
            shapes.append((len(title.tokens), title.head_len))
    shape = np.asarray(shapes, dtype=np.int64).reshape(-1, 2)
    length, head_lens = shape[:, 0], shape[:, 1]
    corpus = _Corpus(ids=np.asarray(ids, dtype=np.int64), lengths=length, head_lens=head_lens,
                     numeric=np.array([is_numeric(token) for token in vocab], dtype=bool),
                     starts=np.cumsum(length) - length)
    return corpus, list(vocab)


def _fit_scores(corpus: _Corpus) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], int, _Slots]:
    """Attribute and noun scores per vocabulary id (formulas by the constants), templates, slots."""
    vocab = len(corpus.numeric)
    cuts = _cuts(corpus.lengths)
    evidence, templates, slots = _shared_cuts(corpus, cuts, _template_keys(corpus, cuts))
    filler, ends = _position_roles(corpus, cuts, evidence)
    titles = np.bincount(corpus.ids, minlength=vocab)
    prior = np.where(corpus.numeric, NUMBER_PRIOR, WORD_PRIOR)
    attribute = (np.bincount(corpus.ids[filler], minlength=vocab) + PRIOR_WEIGHT * prior) / (
        titles + PRIOR_WEIGHT)
    ending = (np.bincount(corpus.ids[ends], minlength=vocab) + END_PRIOR_WEIGHT * END_PRIOR) / (
        titles + END_PRIOR_WEIGHT)
    return attribute, ending * (1.0 - NOUN_ATTRIBUTE_DISCOUNT * attribute), templates, slots


def _cuts(lengths: npt.NDArray[np.int64]) -> _Cuts:
    """All cuts of 1..MAX_SPAN tokens that leave at least one token standing."""
    parts = []
    for width in range(1, MAX_SPAN + 1):
        per_title = np.where(lengths > width, lengths - width + 1, 0)
        title = np.repeat(np.arange(len(lengths), dtype=np.int64), per_title)
        start = np.arange(len(title), dtype=np.int64) - np.repeat(np.cumsum(per_title) - per_title, per_title)
        parts.append((title, start, np.full(len(title), width, dtype=np.int64)))
    return _Cuts(*(np.concatenate(column) for column in zip(*parts, strict=True)))


_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible modulo 2**64
_BASE_INV = np.uint64(pow(int(_BASE), -1, 2**64))
_MIX_PREFIX, _MIX_SUFFIX = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _template_keys(corpus: _Corpus, cuts: _Cuts) -> npt.NDArray[np.uint64]:
    """Per cut, a 64-bit key of the tokens before and after it: O(1) each from one prefix sum."""
    values = corpus.ids.astype(np.uint64) + np.uint64(1)
    powers = np.cumprod(np.concatenate(([np.uint64(1)], np.full(len(values), _BASE, dtype=np.uint64))))
    inverse = np.cumprod(np.concatenate(([np.uint64(1)], np.full(len(values), _BASE_INV, dtype=np.uint64))))
    prefix = np.concatenate(([np.uint64(0)], np.cumsum(values * powers[:-1], dtype=np.uint64)))

    def substring(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
        return np.asarray((prefix[b] - prefix[a]) * inverse[a], dtype=np.uint64)

    begin, end = corpus.starts[cuts.title], corpus.starts[cuts.title] + corpus.lengths[cuts.title]
    cut, after = begin + cuts.start, begin + cuts.start + cuts.width
    shape = (cuts.start * 65536 + (end - after)).astype(np.uint64)
    return substring(begin, cut) * _MIX_PREFIX + substring(after, end) * _MIX_SUFFIX + shape


def _shared_cuts(corpus: _Corpus, cuts: _Cuts, keys: npt.NDArray[np.uint64]
                 ) -> tuple[npt.NDArray[np.bool_], int, _Slots]:
    """Which cuts are substitution evidence; how many templates there are; the shared ones.

    A cut counts when its template is filled by two or more titles and its fillers do not all
    start (or all end) with the same token: `herb *` filled by `marker thyme` and `marker
    rosemary` says nothing about `marker` that `herb marker *` does not say better.
    """
    unique, group, sizes = np.unique(keys, return_inverse=True, return_counts=True)
    cut = corpus.starts[cuts.title] + cuts.start
    varied = ~_constant_in_group(group, corpus.ids[cut], len(unique))
    varied &= ~_constant_in_group(group, corpus.ids[cut + cuts.width - 1], len(unique))
    shared = sizes >= 2
    return (sizes[group] >= 2) & varied, len(unique), (unique[shared], sizes[shared])


def _constant_in_group(group: npt.NDArray[np.int64], values: npt.NDArray[np.int64],
                       groups: int) -> npt.NDArray[np.bool_]:
    low, high = np.full(groups, np.iinfo(np.int64).max, dtype=np.int64), np.full(groups, -1, dtype=np.int64)
    np.minimum.at(low, group, values)
    np.maximum.at(high, group, values)
    return (low == high)[group]  # type: ignore[no-any-return]


def _position_roles(corpus: _Corpus, cuts: _Cuts, evidence: npt.NDArray[np.bool_]
                    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per token position: inside some evidence cut (a filler); where its title "ends" (noun evidence).

    A title ends at its last token, at the end of its noun territory (`Title.head_len`), and before
    an evidence cut reaching either end (`HERB MARKER *`) unless the cut's last token mostly stands
    fixed at an end while other spans vary (`DOLLY GIRL *` filled by `BEAKER` of `* BEAKER`).
    """
    title, start, width = cuts.title[evidence], cuts.start[evidence], cuts.width[evidence]
    base = corpus.starts[title] + start
    filler = np.zeros(len(corpus.ids), dtype=bool)
    for k in range(MAX_SPAN):
        filler[base[width > k] + k] = True
    ends = np.zeros(len(corpus.ids), dtype=bool)
    anchored = np.zeros(len(corpus.ids), dtype=bool)
    trailing = np.zeros(len(title), dtype=bool)
    for stop in (corpus.lengths, corpus.head_lens):  # one past each end, per title
        ends[corpus.starts + stop - 1] = True
        trailing |= start + width == stop[title]
        kept = np.zeros(len(corpus.lengths), dtype=bool)  # some cut leaves the end token standing
        kept[title[(start + width < stop[title]) | (start >= stop[title])]] = True
        anchored[(corpus.starts + stop - 1)[kept]] = True
    vocab = len(corpus.numeric)
    anchor_rate = np.bincount(corpus.ids[anchored], minlength=vocab) / (
        np.bincount(corpus.ids, minlength=vocab) + PRIOR_WEIGHT)
    attribute_tail = trailing & (start > 0) & (anchor_rate[corpus.ids[base + width - 1]] < ATTRIBUTE_CUT)
    ends[base[attribute_tail] - 1] = True
    return filler, ends
