"""CTR with real kgrec embeddings: the TGN trained only on events before the CTR test split.

    python benchmarks/ctr_kgrec.py --dataset movielens [--epochs 3] [--work DIR]
    python benchmarks/ctr_kgrec.py --dataset online-retail
    python benchmarks/ctr_kgrec.py --dataset instacart

Ingests the dataset (../shared/data) with kgrec's adapter, keeps the events before the CTR
evaluation's cutoff, mines co-occurrence (MovieLens: one-day user windows; Online Retail:
invoices; Instacart: orders), loads the graph into a throw-away embedded FalkorDB, snapshots it at the cutoff,
trains the temporal model, exports embeddings point in time (`ctr.embedding_versions` times
across the ranker's training window and once at the cutoff; each sample reads the latest export
made before it), and runs `ctr_step`: DeepFM and DIN with ids only, + the export's MiniLM item
text, and + the kgrec embeddings, over the configured seeds. Nothing after the cutoff reaches
the graph, the model or the embeddings. With `--work`, finished steps of an earlier run there
are reused (`--retrain` trains the model again).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import polars as pl

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SOURCES = {  # dataset -> (ingest format, events file, items file or None, how baskets form)
    "movielens": ("movielens", "movielens_latest_small/ratings.csv", "movielens_latest_small/movies.csv",
                  "user_window"),
    "online-retail": ("online-retail", "online_retail/online_retail.parquet", None, "session"),
    "instacart": ("instacart", "instacart_sample", None, "session"),  # the directory of its tables
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(SOURCES), default="movielens")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-events", type=int, default=100_000,
                        help="Train the TGN on the latest N events before the cutoff.")
    parser.add_argument("--work", type=Path, default=None,
                        help="Keep intermediate outputs here; reuse finished ones.")
    parser.add_argument("--retrain", action="store_true", help="Train the model even if --work has one.")
    args = parser.parse_args()

    from gnn.config import GnnSection
    from pipelines.outputs import MARKER
    from pipelines.steps.ctr import ctr_step, export_versions, load_dataset
    from pipelines.steps.gnn import train_step
    from serving.ctr.config import CtrSection

    events_file = SOURCES[args.dataset][1]
    if not (SHARED / events_file).exists():
        raise SystemExit(f"{SHARED / events_file} is absent (see ../shared/data/README.md)")
    work = args.work or Path(tempfile.mkdtemp(prefix="kgrec-ctr-"))
    ctr = CtrSection()
    data = load_dataset(ctr, args.dataset)
    cutoff = data.cutoff
    gnn = GnnSection(max_events=args.max_events, epochs=args.epochs, text_cache_dir=work / "text_cache")
    if args.retrain or not (work / "model" / MARKER).exists():
        shutil.rmtree(work / "emb", ignore_errors=True)  # exports of an older model
        if not (work / "snapshot" / MARKER).exists():
            _graph_at_cutoff(args.dataset, work, cutoff)
        trained = train_step(gnn, work / "ingest", work / "snapshot", work / "model")
        print(f"TGN on {trained.rows['events']:,} events before {cutoff:%Y-%m-%d}: "
              f"test AP {trained.details['test_ap']}, MRR {trained.details['test_mrr']}")
    exports = export_versions(gnn, work / "model", data, ctr.embedding_versions, work / "emb")
    _, table = ctr_step(ctr, data, exports, work / "ctr")
    print(table)


def _graph_at_cutoff(dataset: str, work: Path, cutoff: datetime) -> None:
    """Ingest, keep the events before `cutoff`, mine, load a throw-away FalkorDB, snapshot at `cutoff`."""
    from kg.config import GraphSection
    from kg.factory import embedded_server_for_run
    from pipelines.candidates.job import run_candidates
    from pipelines.config import CandidatesSection, IngestSection, RaySection, SynthSection
    from pipelines.datasets import dataset_of
    from pipelines.ingest.job import run_ingest
    from pipelines.outputs import mark_complete
    from pipelines.ray_runtime import ensure_ray
    from pipelines.refine.graph_input import write_behaviour
    from pipelines.steps.graph import load_step, snapshot_step

    fmt, events_file, items_file, basket_by = SOURCES[dataset]
    ensure_ray(RaySection(progress_bars=False))
    items_path = str(SHARED / items_file) if items_file else None
    source = IngestSection(format=fmt, events_path=str(SHARED / events_file), items_path=items_path)
    run_ingest(source, work / "ingest_all")
    events = pl.read_parquet(work / "ingest_all" / "events").filter(pl.col("ts") < cutoff)
    (work / "ingest" / "events").mkdir(parents=True, exist_ok=True)
    events.write_parquet(work / "ingest" / "events" / "part-0.parquet")
    shutil.copytree(work / "ingest_all" / "items", work / "ingest" / "items", dirs_exist_ok=True)
    mark_complete(work / "ingest", {"events_before": cutoff.isoformat()})
    run_candidates(CandidatesSection(basket_by=basket_by, window_seconds=86_400), work / "ingest",
                   work / "candidates")
    write_behaviour(work / "ingest", work / "candidates", "ctr-kgrec", work / "graph_input")
    # History loaded today, snapshotted at a past cutoff: event time only.
    graph = GraphSection(state_dir=work / "falkordb", graph_name="ctr", snapshot_time="evidence")
    with embedded_server_for_run(graph):
        load_step(graph, work / "graph_input", dataset_of("files", SynthSection(), source))
        snapshot_step(graph, cutoff, work / "snapshot")


if __name__ == "__main__":
    main()
