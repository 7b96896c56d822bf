r"""How far the LLM budget reaches down the queue when the pre-filter answers variants without a model.

    kgrec ingest -c infra/configs/online_retail.yaml --format online-retail \
        --events ../shared/data/online_retail/online_retail.parquet --out /tmp/or/ingest
    kgrec candidates -c infra/configs/online_retail.yaml --in /tmp/or/ingest --out /tmp/or/candidates
    python benchmarks/prefilter_budget.py --ingest /tmp/or/ingest --candidates /tmp/or/candidates

Any ingest + candidates output works, e.g. the Instacart sample (orders are the baskets):

    kgrec ingest --format instacart --events ../shared/data/instacart_sample --out /tmp/ic/ingest
    kgrec candidates --in /tmp/ic/ingest --out /tmp/ic/candidates
    python benchmarks/prefilter_budget.py --ingest /tmp/ic/ingest --candidates /tmp/ic/candidates

Plans the extract stage's pair questions (`pipelines.extract.tasks.plan_tasks`, no model is
asked) for each budget, and prints the queue rank the questions reach beside the baseline (no
pre-filter: the budget reaches its own size), the share of the walked queue answered without a
model, and the first questions the budget now buys.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from kg.schema import LlmTask
from pipelines.extract.config import ExtractSection
from pipelines.extract.tasks import plan_tasks


def main() -> None:
    """Print, per budget, the reach with the pre-filter beside the reach without it."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ingest", type=Path, required=True)
    parser.add_argument("--candidates", type=Path, required=True)
    parser.add_argument("--budgets", type=int, nargs="+", default=[50, 60, 200])
    parser.add_argument("--show", type=int, default=10, help="First questions to print for the first budget.")
    args = parser.parse_args()
    titles = pl.read_parquet(args.ingest / "items").select("item_id", "title")
    for n, budget in enumerate(args.budgets):
        settings = ExtractSection(tasks=[LlmTask.PAIR], max_pairs=budget)
        plan = plan_tasks(args.candidates, args.ingest, settings, "benchmark")
        walked, free = plan.counts["queued_pairs"], plan.counts["prefiltered_pairs"]
        print(f"budget {budget}: questions reach queue rank {plan.counts['deepest_queue_rank']} "
              f"(without the pre-filter: {budget}; x{walked / budget:.2f}); {free} of {walked} walked pairs "
              f"({free / walked:.0%}) answered without a model; {plan.tasks.num_rows} LLM questions")
        if n == 0:
            asked = pl.from_arrow(plan.tasks)
            assert isinstance(asked, pl.DataFrame)
            first = (asked.head(args.show).join(titles, left_on="item_a", right_on="item_id")
                     .join(titles, left_on="item_b", right_on="item_id", suffix="_b"))
            for a, b in first.select("title", "title_b").iter_rows():
                print(f"  {a}  /  {b}")


if __name__ == "__main__":
    main()
