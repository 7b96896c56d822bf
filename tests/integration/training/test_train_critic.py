"""`kgrec refine train-critic` on a tiny catalog: real text embeddings, a saved critic, clear refusals."""

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.outputs import mark_complete

SEEN = datetime(2026, 1, 1, tzinfo=UTC)
DESIGNS = ["RED SPOT", "BLUE STRIPE", "OWL", "FOX", "STAR", "HEART", "DAISY", "ROBOT", "PIRATE", "FAIRY"]


def _outputs(root: Path) -> tuple[Path, Path, Path]:
    """Cups and plates in ten designs: same design cup+plate complement, cup+cup variant."""
    titles = {f"c{n}": f"{d} PAPER CUPS" for n, d in enumerate(DESIGNS)}
    titles |= {f"p{n}": f"{d} PAPER PLATES" for n, d in enumerate(DESIGNS)}
    (root / "ingest" / "items").mkdir(parents=True)
    pl.DataFrame({"item_id": list(titles), "title": list(titles.values()), "price": [0.85] * len(titles)}
                 ).write_parquet(root / "ingest" / "items" / "part-0.parquet")
    mark_complete(root / "ingest", {})
    pairs = [(f"c{n}", f"p{n}", "complement") for n in range(10)]
    pairs += [(f"c{n}", f"c{n + 1}", "variant") for n in range(9)]
    pairs += [(f"p{n}", f"p{(n + 3) % 10}", "variant") for n in range(9)]
    (root / "candidates" / "pairs").mkdir(parents=True)
    pl.DataFrame({"item_a": [min(a, b) for a, b, _ in pairs], "item_b": [max(a, b) for a, b, _ in pairs],
                  "n_ab": [5 if label == "complement" else 2 for *_, label in pairs],
                  "lift": [8.0 if label == "complement" else 1.5 for *_, label in pairs], "npmi": [0.4] * len(pairs),
                  "confidence_ab": [0.3] * len(pairs), "confidence_ba": [0.3] * len(pairs),
                  "first_seen": [SEEN] * len(pairs), "last_seen": [SEEN] * len(pairs)}
                 ).write_parquet(root / "candidates" / "pairs" / "part-0.parquet")
    mark_complete(root / "candidates", {})
    labels = root / "labels.csv"
    labels.write_text("a,b,label\n" + "".join(f"{a},{b},{label}\n" for a, b, label in pairs) + "c0,zz9,variant\n")
    return root / "ingest", root / "candidates", labels


def test_train_critic_saves_a_versioned_critic_and_prints_cross_validated_figures(tmp_path: Path) -> None:
    ingest, candidates, labels = _outputs(tmp_path)
    config = tmp_path / "kgrec.yaml"
    config.write_text(f"gnn:\n  text_cache_dir: {tmp_path / 'text'}\n")
    args = ["refine", "train-critic", "--labels", str(labels), "--ingest", str(ingest), "--candidates",
            str(candidates), "--out", str(tmp_path / "critics"), "--config", str(config)]
    result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "complement: 10 positive, 18 negative; precision" in result.output
    assert "substitute: 0 positive, 28 negative; not trained: needs 8 positives and negatives" in result.output
    [saved] = list((tmp_path / "critics").iterdir())
    assert saved.name.startswith("critic-") and str(saved) in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\nc0,p0,goes-with\n")
    refused = CliRunner().invoke(app, [*args[:3], str(bad), *args[4:]], terminal_width=200)
    assert refused.exit_code == 2 and "line 2: 'goes-with'" in refused.output
