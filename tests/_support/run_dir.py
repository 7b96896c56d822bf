"""A small finished run directory, written in the stages' real file layouts, for the run report tests.

Each table is tiny and hand-made, but it has the schema its stage writes (`LlmAnswer`'s Arrow
schema for the answers, the snapshot's `RELATION_SCHEMA`, `TrainResult` for `train.json`, the
CTR step's `results.json` shape), and the manifest is a real `RunDirectory` that stage reports
are recorded into. `write_summary` then writes `report.md` and `report.html` as `kgrec run` does.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kg.arrow_schema import arrow_schema_of
from kg.schema import LlmAnswer
from kg.snapshot import RELATION_SCHEMA, graph_statistics
from pipelines.config import RunSection, Settings
from pipelines.manifest import RunDirectory
from pipelines.report import StageReport
from pipelines.summary import write_summary

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> & "mugs"'
SEEN = datetime(2026, 3, 1, tzinfo=UTC)


def write_run(root: Path, *, ctr: bool = True, critic: bool = True, trained: bool = True) -> RunDirectory:
    """A run under `root` (id `fixture`) with the outputs of every stage that `ctr`/`critic`/`trained` allow.

    One item's title is `HOSTILE` markup; it reaches the report through the LLM queue's table.
    """
    run = RunDirectory(root, Settings(run=RunSection(runs_dir=root, ctr=ctr)), run_id="fixture")
    run.record(StageReport(name="synth", wall_s=0.05))
    run.record(StageReport(name="ingest", rows={"events": 900, "items": 4}, wall_s=6.0,
                           bad_rows={"events: ts is null": 3}))
    _items_and_queue(run)
    run.record(StageReport(name="candidates", rows={"pairs": 5}, wall_s=17.0))
    _answers(run.stage_dir("extract") / "answers")
    run.record(StageReport(name="extract", rows={"questions": 6, "relations": 3}, wall_s=27.9, details={
        "model": "SmolLM2 <b>bold</b>", "backend": "local", "queued_pairs": 4, "prefiltered_pairs": 1,
        "questions": 6, "asked_llm": 3, "cache_hits": 2, "prefilter_hits": 1, "failures": 1, "requests": 3,
        "attempts": 4, "prompt_tokens": 1500, "completion_tokens": 120, "wall_s": 27.9,
        "completion_tokens_per_s": 4.3, "pairs_complement": 1, "pairs_substitute": 1, "pairs_variant": 1}))
    if critic:
        _scores(run.stage_dir("refine") / "scores")
    run.record(StageReport(name="refine", rows={"relations": 8}, wall_s=3.2, details={
        "critic": "critic-abc123" if critic else "none", "kept_by_critic": 2 if critic else 0,
        "dropped_by_critic": 1 if critic else 0, "relabelled_variant": 0, "kept_by_curator": 0,
        "kept_as_proposed": 0 if critic else 3, "concept_tails": 3, "concepts": 2, "concept_merges": 0,
        "refused_tails: cut off": 1}))
    _snapshot(run.stage_dir("snapshot"))
    run.record(StageReport(name="graph_load", rows={"relations_counted": 8}, wall_s=0.7))
    run.record(StageReport(name="snapshot", rows={"relations": 8}, wall_s=0.1))
    if trained:
        _train(run)
    if ctr:
        _ctr(run)
    write_summary(run)
    return run


def _write(path: Path, table: pa.Table) -> None:
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path / "part-00000.parquet")


def _items_and_queue(run: RunDirectory) -> None:
    _write(run.stage_dir("ingest") / "items", pa.table({
        "item_id": ["i1", "i2", "i3", "i4"], "title": [HOSTILE, "tea pot", "cup", "saucer"],
        "category": ["kitchen"] * 4}))
    _write(run.stage_dir("candidates") / "llm_queue", pa.table({
        "llm_rank": [1, 2], "item_a": ["i1", "i2"], "item_b": ["i2", "i3"], "n_ab": [12, 9],
        "lift": [3.5, 2.0], "score": [0.9, 0.7]}))


def _answer(task: str, a: str, b: str | None, source: str, answer: dict[str, object] | None) -> dict[str, object]:
    return LlmAnswer.model_validate({
        "key": f"{task}-{a}-{b}", "task": task, "item_a": a, "item_b": b, "input_json": "{}", "model": "m",
        "prompt_version": "v1", "source": source, "status": "ok" if answer else "failed",
        "answer_json": json.dumps(answer) if answer else None, "reason": None if answer else "malformed JSON",
        "requests": int(source == "llm"), "attempts": 1, "prompt_tokens": 10, "completion_tokens": 5,
    }).model_dump(mode="json")


def _answers(path: Path) -> None:
    pair = {"direction": "none", "confidence": 0.8, "rationale": "r"}
    rows = [_answer("pair", "i1", "i2", "llm", {"relation": "complement", **pair}),
            _answer("pair", "i2", "i3", "cache", {"relation": "substitute", **pair}),
            _answer("pair", "i3", "i4", "prefilter", {"relation": "variant", **pair}),
            _answer("pair", "i1", "i3", "llm", None),
            _answer("commonsense", "i2", None, "llm", {"used_for": "tea", "used_by": "", "used_in": "",
                                                      "capable_of": "", "is_a": "pot", "used_with": "",
                                                      "confidence": 0.7}),
            _answer("facts", "i4", None, "cache", {"facts": "A saucer."})]
    _write(path, pa.Table.from_pylist(rows, arrow_schema_of(LlmAnswer)))


def _scores(path: Path) -> None:
    _write(path, pa.table({
        "a": ["i1", "i2", "i3"], "b": ["i2", "i3", "i4"], "variant_score": [0.1, 0.2, 0.9],
        "llm_asked": [True, True, False], "critic_complement": [0.81, 0.35, 0.12],
        "critic_variant": [0.05, 0.4, 0.93]}))


def _snapshot(path: Path) -> None:
    edges = [("CO_PURCHASED", "i1", "i2"), ("CO_PURCHASED", "i2", "i3"), ("CO_PURCHASED", "i3", "i4"),
             ("COMPLEMENTS", "i1", "i2"), ("SUBSTITUTES", "i2", "i3"), ("USED_FOR", "i2", "activity:tea"),
             ("USED_FOR", "i1", "activity:tea"), ("IS_A", "i2", "type:pot")]
    rows = [{"id": f"{t}:{h}:{tl}", "type": t, "head": h, "tail": tl, "status": "proposed", "confidence": 0.8,
             "support": 1, "lift": 1.0, "first_seen": SEEN, "last_seen": SEEN, "model": "m"} for t, h, tl in edges]
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, RELATION_SCHEMA), path / "relations.parquet")
    stats = graph_statistics([{"type": t, "head": h, "tail": tl} for t, h, tl in edges])
    (path / "manifest.json").write_text(json.dumps({"relations": len(edges), "statistics": stats}))


def _train(run: RunDirectory) -> None:
    from gnn.train import TrainResult

    def metrics(mrr: float) -> dict[str, float]:
        return {"ap": 0.6, "auc": 0.62, "mrr": mrr, "events": 100}

    epochs = [{"epoch": e, "loss": 1.4 - 0.1 * e, "val": metrics(m), "seconds": 3.0, "events_per_s": 90.0}
              for e, m in [(1, 0.08), (2, 0.12), (3, 0.11)]]
    result = TrainResult.model_validate({
        "model_name": "tgn-kg-both", "baseline": False, "config": {}, "events_dir": "ingest",
        "snapshot_dir": "snapshot", "snapshot_as_of": SEEN.isoformat(), "created_at": SEEN, "num_nodes": 10,
        "rows": {"events": 900}, "epochs": epochs, "best_epoch": 2,
        "metrics": {"val": metrics(0.12), "test": metrics(0.1)}, "model_hash": "h", "train_events_per_s": 90.0,
        "train_until": SEEN.isoformat()})
    (run.stage_dir("model")).mkdir()
    (run.stage_dir("model") / "train.json").write_text(result.model_dump_json(indent=2))
    run.record(StageReport(name="train", wall_s=108.7, details={
        "model": "tgn-kg-both", "best_epoch": 2, "epochs": 3, "test_ap": 0.6, "test_auc": 0.62, "test_mrr": 0.1,
        "train_events_per_s": 90.0}))
    run.record(StageReport(name="embed_export", wall_s=16.0, outputs={"dir": str(run.path / "embeddings" / "v1")}))


def _ctr(run: RunDirectory) -> None:
    seeds = {"ids": [0.50, 0.52, 0.51], "+text": [0.53, 0.55, 0.54], "+kgrec": [0.56, 0.58, 0.60]}
    results = {model: {arm: [{"auc": auc + shift, "logloss": 0.69} for auc in aucs] for arm, aucs in seeds.items()}
               for model, shift in (("DeepFM", 0.0), ("DIN", -0.01))}
    out = run.stage_dir("ctr")
    out.mkdir()
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "report.md").write_text("CTR on events\n\n| model | arm | AUC (mean ± sd) |\n| --- | --- | --- |\n"
                                   "| DeepFM | ids | 0.5100 ± 0.0082 |\n")
    run.record(StageReport(name="ctr", rows={"train_samples": 300, "test_samples": 100}, wall_s=0.8,
                           details={"embedding_versions": 4, "train_samples_without_embeddings": 0,
                                    "test_samples_without_embeddings": 0, "model_fit_after_cutoff": "False"}))
