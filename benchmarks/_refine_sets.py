"""The label sets `refine_quality.py` measures on, each as a spec its one table function reads.

A set is a kgrec ingest output, its candidates output, optionally an extract output, and a way to
label pairs of it:

- `hand`: a labels CSV (a, b, label), such as the 360 hand-labelled Online Retail pairs;
- `synthetic`: kgrec's synthetic ground truth (`kgrec data synth`), complete, so a pair it does
  not list is unrelated; the pairs labeled are a sample of the mined pairs stratified by lift rank,
  drawn exactly as the Online Retail sample was (`labels/sample_online_retail.py`);
- `amazon`: weak labels from the links table of an Amazon ingest (the metadata's also-bought /
  also-viewed lists: `pipelines.ingest.links`, `pipelines.refine.weak_labels`), with random
  unlinked pairs as unrelated.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from labels.sample_online_retail import sample  # benchmarks/ is on sys.path when run as a script

from pipelines.extract.quality import load_labels
from pipelines.ingest.links import read_links
from pipelines.refine.labels import LabelSet, labels_from_table, read_labels
from pipelines.refine.weak_labels import weak_labels

# (items, candidates dir) -> the checked labels of that set.
Labeler = Callable[[pl.DataFrame, Path], LabelSet]


@dataclass(frozen=True)
class SetSpec:
    """One label set: where its stage outputs are, how its pairs are labeled, what is weak about it."""

    name: str
    ingest: Path
    candidates: Path
    extract: Path | None
    labeler: Labeler
    caveat: str


def hand_labels(path: Path) -> Labeler:
    """A labels file read and checked; ids the catalog lacks are dropped (and counted)."""
    def label(items: pl.DataFrame, candidates: Path) -> LabelSet:
        return read_labels([path], items["item_id"].to_list())

    return label


def synthetic_truth(truth: Path) -> Labeler:
    """The stratified sample of mined pairs, labeled by the ground truth (unlisted: unrelated)."""
    def label(items: pl.DataFrame, candidates: Path) -> LabelSet:
        relations, _, _ = load_labels(truth)
        drawn = sample(pl.read_parquet(candidates / "pairs"), pl.read_parquet(candidates / "llm_queue"))
        table = (drawn.select(pl.col("item_a").alias("a"), pl.col("item_b").alias("b"))
                 .join(relations, on=["a", "b"], how="left", maintain_order="left")
                 .with_columns(pl.col("label").fill_null("unrelated")))
        return labels_from_table(table, str(truth), items["item_id"].to_list())

    return label


def amazon_weak(links_table: Path, negatives: float, seed: int) -> Labeler:
    """Also bought -> complement, also viewed -> substitute, both -> left out, plus random unrelated pairs."""
    def label(items: pl.DataFrame, candidates: Path) -> LabelSet:
        links = read_links(links_table)
        both = links.filter(pl.col("complement") & pl.col("substitute")).height
        print(f"  {links.height} linked pairs in {links_table}: {both} on both lists left out as ambiguous")
        table = weak_labels(links, items["item_id"].to_list(), negatives, seed)
        return labels_from_table(table, str(links_table), items["item_id"].to_list())

    return label


CAVEATS = {
    "hand": "one labeller, one pass, no agreement figure; 29 complements and 16 substitutes, so per-kind "
            "figures move with the fold split (see benchmarks/labels/README.md).",
    "synthetic": "exact and complete labels, but of a generator's world: templated titles "
                 "('<brand> <series> <noun>, <value>'), and behaviour that buys complements together "
                 "by construction. An upper bound, not a forecast.",
    "amazon": "WEAK labels: also_buy/also_view are Amazon's recommender lists (behaviour, not meaning; "
              "truncated, popularity-biased); 'unrelated' is only 'no link', drawn at random, so "
              "negatives are easy; editions of one magazine count as substitutes; no variant labels. "
              "The 2018 magazine crawl has no baskets (no co-occurrence features) and mostly HTML "
              "instead of titles (the adapter drops those: title features are unknown for most pairs).",
}


# name -> (flag naming its labels, prefix of its stage-output flags, what the labels flag takes)
SETS = {"hand": ("labels", "", "a labels CSV (a, b, label): the hand-labelled pairs"),
        "synthetic": ("synthetic-truth", "synthetic-", "ground_truth.parquet of `kgrec data synth`"),
        "amazon": ("amazon-links", "amazon-", "the links table of the Amazon ingest (<amazon-ingest>/links)")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of the three sets; a set runs when its flags are given."""
    for name, (source, prefix, what) in SETS.items():
        parser.add_argument(f"--{source}", type=Path, help=what)
        parser.add_argument(f"--{prefix}ingest", type=Path, help="its kgrec ingest output")
        parser.add_argument(f"--{prefix}candidates", type=Path, help="its kgrec candidates output")
        if name != "amazon":  # no baskets there, so no LLM queue to answer
            parser.add_argument(f"--{prefix}extract", type=Path, help="its kgrec extract output (optional)")
    parser.add_argument("--amazon-negatives", type=float, default=1.0,
                        help="random unlinked pairs drawn per linked pair, as unrelated")
    parser.add_argument("--seed", type=int, default=0, help="seed of the Amazon negatives")


def _labeler(name: str, source: Path, args: argparse.Namespace) -> Labeler:
    if name == "hand":
        return hand_labels(source)
    if name == "synthetic":
        return synthetic_truth(source)
    return amazon_weak(source, args.amazon_negatives, args.seed)


def sets_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[SetSpec]:
    """The sets whose flags were given; a set given in part is an error that names the flag."""
    def value(flag: str) -> Path | None:
        found: Path | None = getattr(args, flag.replace("-", "_"), None)
        return found

    specs = []
    for name, (source, prefix, _) in SETS.items():
        ingest, candidates = value(f"{prefix}ingest"), value(f"{prefix}candidates")
        labels = value(source)
        if labels is None:
            if ingest or candidates:
                parser.error(f"--{prefix}ingest and --{prefix}candidates need --{source}")
            continue
        if ingest is None or candidates is None:
            parser.error(f"--{source} needs --{prefix}ingest and --{prefix}candidates")
        specs.append(SetSpec(name, ingest, candidates, value(f"{prefix}extract"),
                             _labeler(name, labels, args), CAVEATS[name]))
    if not specs:
        parser.error("give at least one set: --labels, --synthetic-truth or --amazon-links, with its dirs")
    return specs
