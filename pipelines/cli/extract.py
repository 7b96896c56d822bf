"""`kgrec extract ...`: ask the LLM, score what it said, and show a sample for a reader to judge."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from pipelines.cli.common import ConfigOption, console, error, settings_from, user_errors

extract_app = typer.Typer(help="LLM knowledge extraction: run, score, show.")
Backend = Literal["local", "openai", "vllm"]


@extract_app.callback(invoke_without_command=True)
def extract(
    ctx: typer.Context,
    in_dir: Annotated[Path | None, typer.Option("--in", help="A candidates output directory.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output directory.")] = None,
    ingest_dir: Annotated[Path | None, typer.Option(
        "--ingest", help="The ingest output with the items table (default: ../ingest beside --in).")] = None,
    backend: Annotated[Backend | None, typer.Option("--backend", help="local, openai or vllm.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Pairs to ask about (best first).")] = None,
    pairs: Annotated[Path | None, typer.Option(
        "--pairs", help="Ask about the pairs of a CSV (a, b; a labels file) instead of the queue.")] = None,
    config: ConfigOption = None,
) -> None:
    """Ask the LLM about queued pairs and their items; write relations, concepts, facts."""
    if ctx.invoked_subcommand is not None:
        return
    if in_dir is None or out is None:
        raise error("kgrec extract needs --in (a candidates output) and --out, or a subcommand "
                    "(score, show); see `kgrec extract --help`")
    from pipelines.extract.job import run_extract
    from pipelines.extract.vllm_versions import check_vllm_versions
    from pipelines.manifest import new_run_id
    from pipelines.outputs import require_complete, require_output_dir
    from pipelines.ray_runtime import ensure_ray

    overrides = {k: v for k, v in {"backend": backend, "max_pairs": limit,
                                          "pairs_path": pairs}.items() if v is not None}
    with user_errors():
        settings = settings_from(config, {"extract": overrides} if overrides else None)
        ingest = ingest_dir or in_dir.parent / "ingest"
        require_complete(in_dir, "candidates", "--in")  # fail fast, before paying for Ray's start-up
        require_complete(ingest, "ingest", "--ingest (default: ../ingest beside --in)")
        require_output_dir(out)
        if settings.extract.backend == "vllm":  # a Ray / vLLM mismatch: one line now, not a traceback in Ray
            check_vllm_versions()
        ensure_ray(settings.ray)
        report = run_extract(settings.extract, ingest, in_dir, out, new_run_id(), settings.refine.types)
    typer.echo(report.model_dump_json(indent=2))


@extract_app.command("score")
def score(
    pred: Annotated[Path, typer.Option("--pred", help="An extract output directory.")],
    labels: Annotated[Path, typer.Option(
        "--labels", help="CSV (a, b, label), the synthetic ground_truth Parquet, or an ingest's links "
                         "table (<ingest out>/links: Amazon's lists as weak labels).")],
    baseline_share: Annotated[float, typer.Option(
        "--baseline-share", min=0.01, max=1.0,
        help="Share of pairs (top lift) the baseline calls complements.")
    ] = 0.5,
) -> None:
    """Precision and recall per relation type, beside the co-occurrence baseline."""
    from pipelines.extract.quality import load_labels, score_commonsense, score_pairs

    with user_errors():
        pair_labels, commonsense, complete = load_labels(labels)
        scores = score_pairs(pred, pair_labels, complete, baseline_share)
        if commonsense is not None:
            scores += score_commonsense(pred, commonsense)
    table = Table("method", "label", "predicted", "actual", "correct", "precision", "recall",
                  title="extraction quality")
    for s in scores:
        table.add_row(s.method, s.label, str(s.predicted), str(s.actual), str(s.correct),
                      f"{s.precision:.3f}", f"{s.recall:.3f}")
    console.print(table)


@extract_app.command("show")
def show(
    in_dir: Annotated[Path, typer.Option("--in", help="An extract output directory.")],
    per_type: Annotated[int, typer.Option("--per-type", min=1, help="Sample size per relation type.")] = 5,
    ingest_dir: Annotated[Path | None, typer.Option(
        "--ingest", help="Ingest output for item titles (default: ../ingest beside --in).")] = None,
) -> None:
    """The distribution of extracted relations and a sample of each type, with titles."""
    from pipelines.extract.inspect import relation_sample

    with user_errors():
        distribution, sample = relation_sample(in_dir, ingest_dir or in_dir.parent / "ingest", per_type)
    counts = Table("type", "relations", title=f"relations in {in_dir}")
    for kind, n in distribution.iter_rows():
        counts.add_row(str(kind), str(n))
    console.print(counts)
    examples = Table("type", "head", "tail", "confidence", "model", title="sample")
    for example in sample.iter_rows(named=True):
        examples.add_row(example["type"], example["head_title"], example["tail_title"],
                         f"{example['confidence']:.2f}", example["model"])
    console.print(examples)

