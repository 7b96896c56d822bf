"""The refine steps: `kgrec refine` (the decided graph input) and the critic's training.

The only refine code that reaches gnn/: it hands `pipelines.refine.features` a text similarity
made from all-MiniLM-L6-v2 (`gnn.text.TextEncoder`, the same cached encoder the GNN uses). The
curators' decisions, which refine never overrides, and the concepts the graph holds (whose ids
stay), are read from the configured graph store.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
import polars as pl

from kg import cypher
from kg.errors import reading
from kg.factory import embedded_server_for_run, make_store
from pipelines.config import Settings
from pipelines.manifest import RunDirectory
from pipelines.outputs import require_complete
from pipelines.refine.concepts import Embed, existing_concepts
from pipelines.refine.config import RefineSection
from pipelines.refine.critic import Critic, latest_critic, load_critic, save_critic, train_critic
from pipelines.refine.features import FEATURE_VERSION, FEATURES, Similarity, pair_features
from pipelines.refine.job import RefineContext, RefineInputs, run_refine
from pipelines.refine.labels import read_labels
from pipelines.refine.titles import TitleModel
from pipelines.report import StageReport

log = logging.getLogger("kgrec")


def title_similarity(cache_dir: Path) -> Similarity:
    """Row-wise cosine of two lists of texts under all-MiniLM-L6-v2 (embeddings cached in `cache_dir`)."""
    embed = text_embedder(cache_dir)

    def similarity(left: list[str], right: list[str]) -> np.ndarray:
        vectors = embed([*left, *right])  # unit vectors
        cosine: np.ndarray = (vectors[: len(left)] * vectors[len(left):]).sum(axis=1)
        return cosine

    return similarity


def train_critic_step(settings: Settings, labels: list[Path], ingest_dir: Path, candidates_dir: Path,
                      extract_dir: Path | None) -> tuple[Critic, Path]:
    """Read the labels, featurize the labeled pairs against the catalog, train and save a critic.

    Raises:
        InputDataError: a labels file is refused (see `pipelines.refine.labels`).
        StageOutputError: an input directory is not a finished stage output.
    """
    require_complete(ingest_dir, "ingest", "--ingest")
    require_complete(candidates_dir, "candidates", "--candidates")
    with reading(ingest_dir / "items", "the ingest output's items table", "run `kgrec ingest` again"):
        items = pl.read_parquet(ingest_dir / "items")
    label_set = read_labels(labels, items["item_id"].to_list())
    if label_set.unknown_ids:
        log.warning("refine: %d labeled pair(s) name items not in %s/items and were left out",
                    label_set.unknown_ids, ingest_dir)
    answers = None
    if extract_dir is not None:
        require_complete(extract_dir, "extract")
        answers = pl.read_parquet(extract_dir / "answers")
    features = pair_features(label_set.pairs(), items, pl.read_parquet(candidates_dir / "pairs"), answers,
                             TitleModel.fit(items["title"].to_list()),
                             title_similarity(settings.gnn.text_cache_dir))
    section = settings.refine
    critic = train_critic(features, label_set, FEATURES, FEATURE_VERSION, min_labels=section.min_labels,
                          folds=section.folds, threshold=section.threshold, sources=[str(p) for p in labels])
    return critic, save_critic(critic, section.critic_dir)


def refine_step(settings: Settings, run: RunDirectory, previous: Path | None = None) -> None:
    """`kgrec run`'s refine: the run's ingest, candidates and extract outputs into `refine/`.

    `previous` (the previous run's refine output, in an increment): only what changed is sent.
    """
    inputs = RefineInputs(run.stage_dir("ingest"), run.stage_dir("candidates"), run.stage_dir("extract"),
                          previous)
    with run.stage("refine"):
        run.record(refine_stage(settings, inputs, run.stage_dir("refine"), run.run_id,
                                select_critic(settings.refine)))


def select_critic(section: RefineSection) -> Critic | None:
    """The configured critic (`refine.critic`), else the newest under `refine.critic_dir`, else None.

    Cheap enough to call before Ray starts, so a wrong `--critic` is reported first.

    Raises:
        ConfigError: the configured critic is not a saved critic of this feature version.
    """
    if section.critic is not None:
        return load_critic(section.critic, FEATURE_VERSION)
    return latest_critic(section.critic_dir, FEATURE_VERSION)


def refine_stage(settings: Settings, inputs: RefineInputs, out_dir: Path, run_id: str,
                 critic: Critic | None) -> StageReport:
    """Refine `inputs` into `out_dir` with `critic` (`select_critic`) and the curators' decisions.

    Raises:
        StoreUnavailable: the graph store holding the curators' decisions cannot be reached.
    """
    section = settings.refine
    log.info("refine: critic %s", critic.manifest.version if critic else "none (relations kept as proposed)")
    with embedded_server_for_run(settings.graph), make_store(settings.graph) as store:
        statuses = {str(row["id"]): row["status"] for page in store.pages(cypher.CURATED_LABELS, {})
                    for row in page}
        concepts = existing_concepts([row for page in store.pages(cypher.CONCEPTS, {}) for row in page])
    rejected = {relation for relation, status in statuses.items() if status == "rejected"}
    context = RefineContext(critic=critic, curated=set(statuses), rejected=rejected, concepts=concepts,
                            similarity=functools.partial(title_similarity, settings.gnn.text_cache_dir),
                            embed=text_embedder(settings.gnn.text_cache_dir))
    return run_refine(section, inputs, out_dir, run_id, context)


def text_embedder(cache_dir: Path) -> Embed:
    """Unit vectors of texts under all-MiniLM-L6-v2 (cached in `cache_dir`), for concept tails."""
    from gnn.text import TextEncoder

    encoder = TextEncoder(cache_dir)

    def embed(texts: list[str]) -> np.ndarray:
        vectors: np.ndarray = encoder.encode(texts).astype(np.float64)
        return vectors

    return embed
