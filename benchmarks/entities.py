"""The entity layer measured: coverage per LLM question, type purity, type-pair quality, concept clusters.

    kgrec ingest -c infra/configs/online_retail.yaml --format online-retail \
        --events ../shared/data/online_retail/online_retail.parquet --out /tmp/or/ingest
    kgrec candidates -c infra/configs/online_retail.yaml --in /tmp/or/ingest --out /tmp/or/candidates
    kgrec data synth -c infra/configs/local.yaml --out /tmp/synth/data
    kgrec ingest -c infra/configs/local.yaml --format parquet --events /tmp/synth/data/events \
        --items /tmp/synth/data/items.parquet --out /tmp/synth/ingest
    kgrec candidates -c infra/configs/local.yaml --in /tmp/synth/ingest --out /tmp/synth/candidates
    # optional: the local model's answers to the synthetic type pairs (extract.tasks: [type_pair])
    kgrec extract -c types.yaml --in /tmp/synth/candidates --out /tmp/synth/extract_types
    python benchmarks/entities.py --ingest /tmp/or/ingest --candidates /tmp/or/candidates \
        --synthetic-truth /tmp/synth/data/ground_truth.parquet --synthetic-ingest /tmp/synth/ingest \
        --synthetic-candidates /tmp/synth/candidates [--synthetic-extract /tmp/synth/extract_types]

1. **Coverage** (a catalog, Online Retail above): product types found, and for budgets of Q questions
   the item pairs the Q best type pairs cover (every item of one type with every item of the other:
   catalog pairs; and the mined pairs among them) against the Q item pairs item-level asking covers
   with the same Q questions. Target: >= 10x catalog pairs per question.
2. **Type purity** on the synthetic catalog, against the generator's types (the connected components
   of its variant and substitute relations: items of one type are exactly those): purity (a found type
   holds one true type) and inverse purity (a true type is one found type), beside the category alone.
3. **Type pairs** on the synthetic data: which mined type pairs are true complements (the generator's
   complement type pairs): precision of the budget's order (top Q by shared baskets) and of a
   fixed lift rule (best item-pair lift >= 2, chosen before looking), and, given an extract output,
   precision/recall of the model's complement answers. The local 135M model judges nothing: its line is
   a check that the path runs, not a quality figure.
4. **Concept clustering** of a hand-written paraphrase set (`_paraphrases.py`, keyed by the synthetic
   uses) with all-MiniLM-L6-v2 at `refine.concept_similarity`: B-cubed precision/recall and clusters
   beside exact normalized text (today's ids before canonicalization).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl
from _paraphrases import PARAPHRASES  # sibling module: benchmarks/ is on sys.path

from kg.schema import LlmTask, concept_text
from pipelines.extract.type_pairs import catalog_types, mined_type_pairs
from pipelines.refine.concepts import canonicalize
from pipelines.refine.config import ProductTypeRules, RefineSection
from pipelines.refine.titles import TitleModel
from pipelines.steps.refine import text_embedder

BUDGETS = (50, 200, 1000)
TARGET_COVERAGE = 10.0
SWEEP = (
    0.6,
    0.65,
    0.7,
    0.75,
    0.8,
    0.85,
    0.9,
)  # concept similarity thresholds shown beside the configured one


def coverage(ingest: Path, candidates: Path, rules: ProductTypeRules) -> None:
    """Types found and item pairs covered per question, type level against item level."""
    titles = pl.read_parquet(ingest / "items", columns=["title"])["title"].unique().to_list()
    types = catalog_types(ingest, TitleModel.fit(titles), rules)
    sizes = types.group_by("type_id").len()
    pairs = (
        mined_type_pairs(candidates, types)
        .join(sizes.rename({"type_id": "type_a", "len": "size_a"}), on="type_a")
        .join(sizes.rename({"type_id": "type_b", "len": "size_b"}), on="type_b")
    )
    print(f"\n## Coverage ({ingest})\n")
    print(
        f"- items typed: {types.height} of {pl.read_parquet(ingest / 'items', columns=['item_id']).height}; "
        f"by source: {dict(types['source'].value_counts().iter_rows())}"
    )
    print(
        f"- product types: {sizes.height} ({sizes.filter(pl.col('len') == 1).height} of one item); "
        f"mined type pairs: {pairs.height}"
    )
    print(
        "\n| questions Q | catalog pairs covered | mined pairs covered | item-level (Q) | ratio catalog | "
        "ratio mined |\n| --- | --- | --- | --- | --- | --- |"
    )
    for budget in (*BUDGETS, pairs.height):
        asked = pairs.head(budget)
        questions = asked.height
        catalog = int((asked["size_a"] * asked["size_b"]).sum())
        mined = int(asked["item_pairs"].sum())
        ratio = catalog / questions if questions else 0.0
        flag = "" if ratio >= TARGET_COVERAGE else " (below target)"
        print(
            f"| {questions} | {catalog} | {mined} | {questions} | {ratio:.1f}x{flag} | "
            f"{mined / questions if questions else 0:.1f}x |"
        )


def true_types(truth: Path) -> pl.DataFrame:
    """item_id, truth: the generator's product types, as components of its variant/substitute edges."""
    edges = pl.read_parquet(truth).filter(pl.col("relation").is_in(["variant_of", "substitute"]))
    graph = nx.Graph(edges.select("head", "tail").rows())
    rows = [(item, n) for n, component in enumerate(nx.connected_components(graph)) for item in component]
    return pl.DataFrame(rows, schema={"item_id": pl.String, "truth": pl.Int64}, orient="row")


def _purity(found: pl.DataFrame, by: str, of: str) -> float:
    top = found.group_by(by).agg(
        pl.col(of).value_counts(sort=True).first().struct.field("count").alias("top")
    )
    return float(top["top"].sum() / found.height)


def purity(ingest: Path, truth: Path, rules: ProductTypeRules) -> pl.DataFrame:
    """Purity and inverse purity of the found types and of the category alone; returns the found types."""
    titles = pl.read_parquet(ingest / "items", columns=["title"])["title"].unique().to_list()
    found = catalog_types(ingest, TitleModel.fit(titles), rules).join(true_types(truth), on="item_id")
    category = pl.read_parquet(ingest / "items", columns=["item_id", "category"]).join(
        true_types(truth), on="item_id"
    )
    print(f"\n## Type purity (synthetic, {found['truth'].n_unique()} true types)\n")
    print("| types from | types found | purity | inverse purity |\n| --- | --- | --- | --- |")
    for name, frame, column in (
        ("kgrec (category split by head noun phrase)", found, "type_id"),
        ("the category alone", category, "category"),
    ):
        print(
            f"| {name} | {frame[column].n_unique()} | {_purity(frame, column, 'truth'):.3f} | "
            f"{_purity(frame, 'truth', column):.3f} |"
        )
    return found


def _labelled_type_pairs(candidates: Path, found: pl.DataFrame, truth: Path) -> pl.DataFrame:
    """Mined type pairs with `complement`: whether their majority true types are a true complement pair."""
    majority = found.group_by("type_id").agg(pl.col("truth").mode().first())
    to_true = dict(majority.iter_rows())
    true_of = dict(found.select("item_id", "truth").iter_rows())
    complements = {
        frozenset((true_of[h], true_of[t]))
        for h, t in pl.read_parquet(truth)
        .filter(pl.col("relation") == "complement")
        .select("head", "tail")
        .iter_rows()
        if h in true_of and t in true_of
    }
    pairs = mined_type_pairs(candidates, found)
    labels = [
        frozenset((to_true[a], to_true[b])) in complements
        for a, b in pairs.select("type_a", "type_b").iter_rows()
    ]
    return pairs.with_columns(pl.Series("complement", labels))


def _pr(predicted: np.ndarray, actual: np.ndarray) -> str:
    hits = int((predicted & actual).sum())
    precision = hits / predicted.sum() if predicted.sum() else float("nan")
    recall = hits / actual.sum() if actual.sum() else float("nan")
    return f"{precision:.3f} | {recall:.3f} | {int(predicted.sum())}"


def type_pairs(candidates: Path, found: pl.DataFrame, truth: Path, extract: Path | None) -> None:
    """Precision/recall of complement type pairs: the budget's order, a lift rule, the model's answers."""
    pairs = _labelled_type_pairs(candidates, found, truth)
    actual = pairs["complement"].to_numpy()
    print(
        f"\n## Type pairs (synthetic: {pairs.height} mined type pairs, "
        f"{int(actual.sum())} true complements)\n"
    )
    print("| predictor | precision | recall | predicted |\n| --- | --- | --- | --- |")
    for budget in BUDGETS[:2]:
        top = np.zeros(pairs.height, dtype=bool)
        top[:budget] = True
        print(f"| top {budget} by shared baskets (the budget's order) | {_pr(top, actual)} |")
    print(f"| rule: best item-pair lift >= 2 | {_pr((pairs['lift'] >= 2.0).to_numpy(), actual)} |")
    if extract is not None:
        answers = pl.read_parquet(extract / "answers").filter(
            (pl.col("task") == LlmTask.TYPE_PAIR.value) & (pl.col("status") == "ok")
        )
        said = {
            (a, b): json.loads(j)["relation"]
            for a, b, j in answers.select("item_a", "item_b", "answer_json").iter_rows()
        }
        asked = pairs.filter(
            pl.struct("type_a", "type_b").map_elements(
                lambda p: (p["type_a"], p["type_b"]) in said, return_dtype=pl.Boolean
            )
        )
        predicted = np.array(
            [said[(a, b)] == "complement" for a, b in asked.select("type_a", "type_b").iter_rows()]
        )
        model = str(answers["model"].first()) if answers.height else "none"
        print(
            f"| {model} on the {asked.height} asked (plumbing, not quality) | "
            f"{_pr(predicted, asked['complement'].to_numpy())} |"
        )


def _bcubed(clusters: dict[str, str], truth: dict[str, str]) -> tuple[float, float]:
    """B-cubed precision and recall of a clustering of texts against their true concepts."""
    texts = list(truth)
    precision = np.mean(
        [np.mean([truth[o] == truth[t] for o in texts if clusters[o] == clusters[t]]) for t in texts]
    )
    recall = np.mean(
        [np.mean([clusters[o] == clusters[t] for o in texts if truth[o] == truth[t]]) for t in texts]
    )
    return float(precision), float(recall)


def concept_clustering(threshold: float, cache_dir: Path) -> None:
    """The paraphrase set through `canonicalize` (MiniLM) beside exact normalized text."""
    truth = {
        concept_text(p): f"{kind}:{use}" for (kind, use), phrases in PARAPHRASES.items() for p in phrases
    }
    kinds = {concept_text(p): kind for (kind, _), phrases in PARAPHRASES.items() for p in phrases}
    tails = pl.DataFrame(
        {"kind": [kinds[t] for t in truth], "text": list(truth), "mentions": [1] * len(truth)}
    )
    none = pl.DataFrame(schema={"id": pl.String, "kind": pl.String, "text": pl.String})
    embed = text_embedder(cache_dir)
    print(f"\n## Concept clustering ({len(truth)} phrasings of {len(PARAPHRASES)} true concepts)\n")
    print("| method | clusters | B-cubed precision | B-cubed recall |\n| --- | --- | --- | --- |")
    configured = " (refine.concept_similarity)"
    methods = {
        f"MiniLM leader clustering at {cut}{configured if cut == threshold else ''}": dict(
            canonicalize(tails, none, embed, cut).mapping.select("text", "concept_id").iter_rows()
        )
        for cut in sorted({*SWEEP, threshold})
    }
    methods["exact normalized text"] = {t: t for t in truth}
    for name, found in methods.items():
        precision, recall = _bcubed(found, truth)
        print(f"| {name} | {len(set(found.values()))} | {precision:.3f} | {recall:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ingest", type=Path, help="a catalog's kgrec ingest output (coverage)")
    parser.add_argument("--candidates", type=Path, help="its kgrec candidates output")
    parser.add_argument("--synthetic-truth", type=Path, help="kgrec data synth's ground_truth.parquet")
    parser.add_argument("--synthetic-ingest", type=Path, help="the synthetic data's kgrec ingest output")
    parser.add_argument("--synthetic-candidates", type=Path, help="its kgrec candidates output")
    parser.add_argument(
        "--synthetic-extract", type=Path, help="its kgrec extract output with type pairs asked"
    )
    parser.add_argument("--text-cache", type=Path, default=Path(tempfile.gettempdir()) / "kgrec-text-cache")
    args = parser.parse_args()
    section = RefineSection()
    if args.ingest and args.candidates:
        coverage(args.ingest, args.candidates, section.types)
    if args.synthetic_truth and args.synthetic_ingest and args.synthetic_candidates:
        found = purity(args.synthetic_ingest, args.synthetic_truth, section.types)
        type_pairs(args.synthetic_candidates, found, args.synthetic_truth, args.synthetic_extract)
    concept_clustering(section.concept_similarity, args.text_cache)


if __name__ == "__main__":
    main()
