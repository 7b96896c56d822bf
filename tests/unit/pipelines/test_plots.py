import re

from pipelines import plots


def test_text_from_the_data_is_escaped_and_never_mathtext() -> None:
    svg = plots.horizontal_bars(["<script>alert(1)</script>", "$x^2$ & co"], [1.0, 2.0], "s")
    assert svg.startswith("<svg") and "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg and "$x^2$ &amp; co" in svg


def test_scoped_ids_are_unique_per_page_and_references_follow() -> None:
    one = plots.scoped(plots.stacked_bars(["a", "b"], {"llm": [1, 2], "cache": [3, 0]}, "answers"), "one")
    two = plots.scoped(plots.stacked_bars(["a", "b"], {"llm": [1, 2], "cache": [3, 0]}, "answers"), "two")
    ids = re.findall(r'\bid="([^"]+)"', one + two)
    assert len(ids) == len(set(ids))
    # four counts, one of them 0: three segments each
    assert [i for i in ids if "-data-" in i] == [f"{p}-data-{n}" for p in ("one", "two") for n in (1, 2, 3)]
    references = re.findall(r'(?:url\(#|href="#)([^)"]+)', one + two)
    assert references and set(references) <= set(ids)
    assert all(r.startswith(("one-", "two-")) for r in references)


def test_every_figure_kind_draws_marks() -> None:
    figures = [
        plots.histograms({"complement": [0.1, 0.9], "variant": [0.4]}, "score", threshold=0.5),
        plots.degree_distribution([1, 2, 7], [5, 3, 1]),
        plots.epoch_curve([1, 2], [0.1, 0.2], "validation MRR", best=2, reference=("test MRR", 0.15)),
        plots.grouped_error_bars({"DeepFM": {"ids": (0.5, 0.01), "+kgrec": (0.55, 0.02)}}, "AUC", chance=0.5),
    ]
    for svg in figures:
        assert 'id="data"' in svg and "<metadata>" not in svg and "<?xml" not in svg
