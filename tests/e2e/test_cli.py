"""The `kgrec` command line, run as users run it: a fresh process per command."""

import json
from pathlib import Path

import polars as pl
import yaml

from tests._support.cli import kgrec as _kgrec
from tests._support.shared_runs import SharedRun


def test_run_end_to_end_writes_manifest_report_and_tables(synthetic_run: SharedRun) -> None:
    run_dir = synthetic_run.run_dir
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    assert [s["name"] for s in manifest["stages"]] == ["synth", "ingest", "candidates", "extract", "refine",
                                                        "graph_load", "snapshot", "train", "embed_export", "ctr"]
    extract, load = manifest["stages"][3], manifest["stages"][5]
    assert extract["details"]["model"] == "SmolLM2-135M-Instruct.Q4_1"
    # pre-filtered pairs leave the budget to the next; one item's two questions; one type pair
    assert extract["details"]["asked_llm"] == 4 + 2 + 1
    assert extract["rows"]["questions"] == 4 + extract["details"]["prefilter_hits"] + 2 + 1
    assert extract["details"]["mined_type_pairs"] > 1 and extract["details"]["product_types"] > 10
    refine = manifest["stages"][4]
    pairs, extracted = manifest["stages"][2]["rows"]["pairs"], extract["rows"]["relations"]
    # refused tails are set aside, and tails that become one concept may make one relation of several;
    # the entity layer adds an OF_TYPE per typed item and the derived complements
    added = refine["details"]["typed_items"] + refine["details"]["derived_relations"]
    assert pairs < refine["rows"]["relations"] <= pairs + extracted - refine["rows"]["refused_tails"] + added
    assert refine["details"]["concepts"] <= refine["details"]["concept_tails"]
    assert refine["details"]["critic"] == "none" and refine["details"]["dropped_by_critic"] == 0
    assert load["rows"]["relations_counted"] == refine["rows"]["relations"]
    # the entity layer: every synthetic item is typed from its title (the categories are shelves)
    typed = refine["details"]["typed_items"]
    assert typed == refine["details"]["typed_by_title"] == manifest["stages"][0]["rows"]["items"]
    snapshot = pl.read_parquet(run_dir / "snapshot" / "relations.parquet")
    assert snapshot.filter(pl.col("type") == "OF_TYPE").height == typed
    concepts = pl.read_parquet(run_dir / "snapshot" / "concepts.parquet")
    assert concepts.filter(pl.col("kind") == "product_type").height == refine["details"]["product_types"]
    derived = snapshot.filter(pl.col("type") == "COMPLEMENTS").join(
        pl.read_parquet(run_dir / "refine" / "relations").filter(pl.col("derived_from").is_not_null())
        .select("id", "derived_from"), on="id")
    assert derived.height == refine["details"]["derived_relations"]
    ingest = manifest["stages"][1]
    assert ingest["rows"]["events"] + ingest["rows"]["quarantined_events"] == 20_000
    assert sum(ingest["bad_rows"].values()) == ingest["rows"]["quarantined_events"] > 0
    assert manifest["config"]["synth"]["events"] == 20_000
    assert manifest["packages"]["ray"] != "not installed"
    assert all(s["wall_s"] > 0 for s in manifest["stages"])
    assert pl.read_parquet(run_dir / "candidates" / "llm_queue").height == 50
    report = (run_dir / "report.md").read_text()
    assert "## Quarantined rows" in report and "pairs for the LLM stage" in report
    assert "## Knowledge graph (snapshot)" in report
    assert "## Refine" in report and "distinct tails became" in report and "- product types: " in report
    assert "## Knowledge extraction" in report and "| cooccurrence | complement |" in report
    page = (run_dir / "report.html").read_text()  # the browser checks: tests/integration/browser
    drawn = {"stage-times", "extraction", "degree", "mrr", "ctr"}  # no critic is trained in this run
    assert all(f'id="{name}-data-1"' in page for name in drawn) and "Could not be drawn" not in page
    assert "Not in this run: no critic scored the pairs (critic: none)." in page
    assert pl.read_parquet(run_dir / "snapshot" / "relations.parquet").height == load["rows"]["relations_counted"]
    exported = manifest["stages"][-2]
    embeddings = Path(exported["outputs"]["dir"])
    assert embeddings.parent == run_dir / "embeddings" and (embeddings / "_SUCCESS.json").exists()
    assert json.loads((embeddings / "manifest.json").read_text())["rows"] == exported["rows"]
    # the run ends with the rankers' table, on embeddings that predate its test split
    ctr = manifest["stages"][-1]
    assert report.rstrip().endswith("- model_fit_after_cutoff: False")
    assert "## Rankers with and without the embeddings (CTR)" in report
    assert all(f"| {model} | {arm} |" in report for model in ("DeepFM", "DIN") for arm in ("ids", "+text", "+kgrec"))
    # point in time: versions across the ranker's training window, the last just before its test split
    versions = ctr["details"]["embedding_versions"]
    assert versions == len(list((run_dir / "ctr_embeddings").iterdir())) >= 4  # the first may predate all events
    assert ctr["details"]["train_samples_without_embeddings"] < ctr["rows"]["train_samples"] / 2
    assert ctr["details"]["test_samples_without_embeddings"] == 0
    last = sorted((run_dir / "ctr_embeddings").iterdir())[-1]
    cutoff_export = json.loads((last / "manifest.json").read_text())
    assert cutoff_export["as_of"] < json.loads((embeddings / "manifest.json").read_text())["as_of"]
    assert ctr["rows"]["test_samples"] > 0 and (run_dir / "ctr" / "fuxictr" / last.name / "item_id.npz").exists()


def test_stage_commands_chain_like_ray_job_entry_points(tmp_path: Path) -> None:
    env = {"KGREC_RAY__NUM_CPUS": "2", "KGREC_RAY__OBJECT_STORE_MEMORY_MB": "500",
           "KGREC_RAY__PROGRESS_BARS": "false"}
    synth = _kgrec("data", "synth", "--events", "5000", "--seed", "3", "--out", "raw", cwd=tmp_path, env=env)
    assert synth.returncode == 0, synth.stderr[-2000:]
    assert json.loads(synth.stdout)["events"] == 5000
    ingest = _kgrec("ingest", "--format", "parquet", "--events", "raw/events", "--items", "raw/items.parquet",
                    "--out", "ingested", cwd=tmp_path, env=env)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    assert json.loads(ingest.stdout)["rows"]["events"] == 5000
    mined = _kgrec("candidates", "--in", "ingested", "--out", "mined", "--budget", "7", cwd=tmp_path, env=env)
    assert mined.returncode == 0, mined.stderr[-2000:]
    assert json.loads(mined.stdout)["rows"]["llm_queue"] == 7


def test_config_show_prints_effective_values_and_names_bad_keys(tmp_path: Path) -> None:
    shown = _kgrec("config", "show", cwd=tmp_path, env={"KGREC_CANDIDATES__LLM_BUDGET": "123"})
    assert shown.returncode == 0, shown.stderr
    assert yaml.safe_load(shown.stdout)["candidates"]["llm_budget"] == 123
    bad = _kgrec("config", "show", cwd=tmp_path, env={"KGREC_SYNTH__EVENTS": "-5"})
    assert bad.returncode == 2
    assert "synth.events" in bad.stderr and "KGREC_SYNTH__EVENTS" in bad.stderr


def test_candidates_on_a_missing_ingest_is_a_clear_error(tmp_path: Path) -> None:
    result = _kgrec("candidates", "--in", "nowhere", "--out", "out", cwd=tmp_path,
                    env={"KGREC_RAY__NUM_CPUS": "1"})
    assert result.returncode == 2
    assert "no ingest output here" in result.stderr
