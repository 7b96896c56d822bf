"""The short report at the end of a run: `report.md` in the run directory, echoed to the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipelines.manifest import RunDirectory
from pipelines.report_html import write_html

TOP_PAIRS = 10


def _top_pairs(candidates_dir: Path, items_dir: Path) -> list[str]:
    """The LLM queue's head with titles, so a reader sees what will be asked about first."""
    queue_dir = candidates_dir / "llm_queue"
    if not any(queue_dir.glob("*.parquet")):
        return []
    queue = pl.read_parquet(queue_dir).sort("llm_rank").head(TOP_PAIRS)
    titles = (pl.read_parquet(items_dir, columns=["item_id", "title"])
              if any(items_dir.glob("*.parquet")) else pl.DataFrame(
                  {"item_id": [], "title": []}, schema={"item_id": pl.String, "title": pl.String}))
    named = queue.join(titles.rename({"item_id": "item_a", "title": "title_a"}), on="item_a", how="left") \
        .join(titles.rename({"item_id": "item_b", "title": "title_b"}), on="item_b", how="left") \
        .sort("llm_rank")
    return [
        f"| {r['llm_rank']} | {r['title_a'] or r['item_a']} | {r['title_b'] or r['item_b']} "
        f"| {r['n_ab']} | {r['lift']:.1f} | {r['score']:.3f} |"
        for r in named.iter_rows(named=True)
    ]


def _graph_used(run: RunDirectory) -> list[str]:
    """Which graph the run loaded and what it holds now: its datasets (one, unless shared) and size."""
    load = next((s for s in run.manifest.stages if s.name == "graph_load"), None)
    if load is None or "graph" not in load.details:
        return []
    return [f"- graph: {load.details['graph']}, holding {load.details['datasets'] or 'no marked dataset'}; "
            f"{load.rows['graph_nodes']:,} nodes, {load.rows['graph_relations']:,} relations after this load"]


def _graph_statistics(snapshot_dir: Path, graph: list[str]) -> list[str]:
    """The graph used (`_graph_used`) and the snapshot's networkx statistics, as a short list."""
    path = snapshot_dir / "manifest.json"
    if not path.exists():
        return []
    stats = json.loads(path.read_text())["statistics"]
    by_type = ", ".join(f"{k} {v:,}" for k, v in sorted(stats["relations_by_type"].items()))
    lines = ["", "## Knowledge graph (snapshot)", "", *graph,
             f"- {stats['nodes']:,} connected nodes, {stats['edges']:,} edges ({by_type or 'none'})",
             f"- degree: max {stats['degree_max']}, median {stats['degree_median']}; nodes per degree "
             "range: " + ", ".join(f"{k}: {v:,}" for k, v in stats["degree_histogram"].items()),
             f"- connected components: {stats['components']:,}; the largest has "
             f"{stats['largest_component']:,} nodes"]
    if stats["top_concepts"]:
        lines.append("- most connected concepts: "
                     + ", ".join(f"{c} ({n})" for c, n in stats["top_concepts"]))
    return lines


def _llm_cost(d: dict[str, float | int | str]) -> list[str]:
    """The extract stage's cost line, when `extract.price` was set (none otherwise)."""
    if "llm_cost" not in d:
        return []
    currency = d["llm_cost_currency"]
    per = [f"{d[key]:.4g} {currency} per {what}" for key, what in (
        ("llm_cost_per_question", "question asked"), ("llm_cost_per_relation", "relation kept")) if key in d]
    gpus = (f" for {d['gpu_hours']:.4g} GPU-hours (answering wall time x engines x GPUs per engine)"
            if "gpu_hours" in d else "")
    return [f"- LLM cost {d['llm_cost']:.4g} {currency}{gpus}" + (f": {', '.join(per)}" if per else "")]


def _spilling(run: RunDirectory) -> list[str]:
    """What Ray's object store spilled to disk during each stage that counts it, when it did."""
    lines = []
    for stage in run.manifest.stages:
        out, back = (int(stage.details.get(f"object_store_{k}_bytes", 0)) for k in ("spilled", "restored"))
        if out:
            lines.append(f"- {stage.name}: Ray's object store spilled {out / 2**20:,.0f} MiB to disk, read "
                         f"{back / 2**20:,.0f} MiB back (cluster-wide, while the stage ran)")
    return ["", "## Object spilling", "", *lines] if lines else []


def _extraction(run: RunDirectory) -> list[str]:
    """What the LLM stage asked, saved and cost; on synthetic data, its quality beside the baseline."""
    report = next((s for s in run.manifest.stages if s.name == "extract"), None)
    if report is None:
        return []
    d = report.details
    labels = ", ".join(f"{k.removeprefix('pairs_')} {v}" for k, v in d.items() if k.startswith("pairs_"))
    lines = ["", "## Knowledge extraction", "",
             f"- model {d['model']} ({d['backend']}): {d['questions']} questions, {d['asked_llm']} asked, "
             f"{d['cache_hits']} from the cache, {d['prefilter_hits']} answered by the pre-filter, "
             f"{d['failures']} failed",
             f"- {d['requests']} requests, {d['prompt_tokens']:,} prompt and {d['completion_tokens']:,} "
             f"completion tokens ({d['completion_tokens_per_s']} tokens/s) in {d['wall_s']} s",
             f"- pair answers: {labels or 'none'}"]
    lines += _llm_cost(d)
    if d.get("queued_pairs"):
        share = int(d["prefiltered_pairs"]) / int(d["queued_pairs"])
        lines.append(f"- the pre-filter answered {d['prefiltered_pairs']} of the {d['queued_pairs']} queued "
                     f"pairs walked ({share:.0%}) without a model; "
                     f"the LLM's pair questions reached queue rank {d.get('deepest_queue_rank', '?')}")
    truth = run.stage_dir("synth") / "ground_truth.parquet"
    if truth.exists():
        from pipelines.extract.quality import load_labels, score_commonsense, score_pairs

        pairs, commonsense, complete = load_labels(truth)
        scores = score_pairs(run.stage_dir("extract"), pairs, complete)
        if commonsense is not None:
            scores += score_commonsense(run.stage_dir("extract"), commonsense)
        lines += ["", "Quality on the synthetic ground truth (the asked pairs and items; a small local "
                  "model is not expected to be right):", "",
                  "| method | label | predicted | actual | correct | precision | recall |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {q.method} | {q.label} | {q.predicted} | {q.actual} | {q.correct} | {q.precision:.2f} "
                  f"| {q.recall:.2f} |" for q in scores]
    return lines


def _refine(run: RunDirectory) -> list[str]:
    """What decided the extracted relations: the critic, the curators, or the proposers themselves."""
    report = next((s for s in run.manifest.stages if s.name == "refine"), None)
    if report is None or "kept_by_critic" not in report.details:
        return []
    d = report.details
    lines = ["", "## Refine", "",
             f"- critic: {d['critic']}; kept by the critic {d['kept_by_critic']}, dropped by it "
             f"{d['dropped_by_critic']}, relabelled VARIANT_OF {d['relabelled_variant']}",
             f"- passed through: {d['kept_by_curator']} decided by curators, {d['kept_as_proposed']} kept as "
             "proposed (no critic for their kind)"]
    if "concept_tails" in d:
        refused = ", ".join(f"{k.removeprefix('refused_tails: ')} {v}" for k, v in d.items()
                            if k.startswith("refused_tails: "))
        lines.append(f"- concepts: {d['concept_tails']} distinct tails became {d['concepts']} canonical "
                     f"concepts ({d['concept_merges']} joined concepts the graph held); refused tails: "
                     f"{refused or 'none'}")
    if "product_types" in d:
        sources = ", ".join(f"{k.removeprefix('typed_by_')} {v}" for k, v in d.items()
                            if k.startswith("typed_by_"))
        lines.append(f"- product types: {d['typed_items']} items typed into {d['product_types']} types "
                     f"(by {sources or 'nothing'}); {d['type_relations']} relations between types, "
                     f"{d['derived_relations']} item complements derived from them")
    return lines


def _model_figures(run: RunDirectory) -> list[str]:
    """Test link-prediction figures of the temporal model and where the embeddings went."""
    stages = {s.name: s for s in run.manifest.stages}
    if "train" not in stages:
        return []
    d = stages["train"].details
    lines = ["", "## Temporal model", "",
             f"{d['model']}: test AP {d['test_ap']}, AUC {d['test_auc']}, MRR {d['test_mrr']} "
             f"(best of {d['epochs']} epoch(s), {d['train_events_per_s']} events/s)"]
    if "embed_export" in stages:
        lines.append(f"embeddings: {stages['embed_export'].outputs['dir']}")
    return lines


def _ctr(run: RunDirectory) -> list[str]:
    """The rankers' table (`ctr/report.md`): AUC with and without the run's embeddings."""
    path = run.stage_dir("ctr") / "report.md"
    if not path.exists():
        return []
    stage = next(s for s in run.manifest.stages if s.name == "ctr")
    flags = ("embedding_versions", "train_samples_without_embeddings",
             "test_samples_without_embeddings", "model_fit_after_cutoff")
    notes = [f"- {flag}: {stage.details[flag]}" for flag in flags if flag in stage.details]
    return ["", "## Rankers with and without the embeddings (CTR)", "", path.read_text().strip(), "", *notes]


def render(run: RunDirectory) -> str:
    """Markdown: stages with rows and times, refused rows by reason, the top of the LLM queue."""
    lines = [f"# kgrec run {run.run_id}", "", "| stage | rows | wall s |", "| --- | --- | --- |"]
    for stage in run.manifest.stages:
        rows = ", ".join(f"{k}={v:,}" for k, v in stage.rows.items())
        lines.append(f"| {stage.name} | {rows} | {stage.wall_s:.1f} |")
    refused = {f"{s.name}/{k}": v for s in run.manifest.stages for k, v in s.bad_rows.items()}
    if refused:
        lines += ["", "## Quarantined rows", "", "| reason | rows |", "| --- | --- |"]
        lines += [f"| {k} | {v:,} |" for k, v in sorted(refused.items(), key=lambda kv: -kv[1])]
    lines += _spilling(run)
    lines += _extraction(run)
    lines += _refine(run)
    lines += _graph_statistics(run.stage_dir("snapshot"), _graph_used(run))
    lines += _model_figures(run)
    pairs = _top_pairs(run.stage_dir("candidates"), run.stage_dir("ingest") / "items")
    if pairs:
        lines += ["", f"## First {len(pairs)} pairs for the LLM stage", "",
                  "| rank | item a | item b | baskets | lift | score |",
                  "| --- | --- | --- | --- | --- | --- |", *pairs]
    lines += _ctr(run)
    return "\n".join(lines) + "\n"


def write_summary(run: RunDirectory) -> Path:
    """Write `report.md`, then `report.html` beside it (its figures and text); return report.md's path."""
    path = run.path / "report.md"
    path.write_text(render(run))
    write_html(run)
    return path
