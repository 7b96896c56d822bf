import numpy as np
import pytest

from gnn.metrics import auc, average_precision, link_metrics, reciprocal_ranks


def test_perfect_and_inverted_rankings() -> None:
    pos, neg = np.array([0.9, 0.8]), np.array([0.1, 0.2])
    assert auc(pos, neg) == 1.0 and average_precision(pos, neg) == 1.0
    assert auc(neg, pos) == 0.0
    assert average_precision(neg, pos) == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_ties_are_never_lucky() -> None:
    same = np.zeros(4)
    assert auc(same, same) == 0.5
    assert reciprocal_ranks(np.zeros(1), np.zeros((1, 3))).tolist() == [1 / 2.5]
    assert average_precision(np.zeros(2), np.zeros(2)) == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_mrr_ranks_each_positive_among_its_own_negatives() -> None:
    pos = np.array([0.5, 0.5])
    negs = np.array([[0.1, 0.2, 0.3], [0.9, 0.8, 0.1]])
    assert reciprocal_ranks(pos, negs).tolist() == [1.0, 1 / 3]
    m = link_metrics(pos, negs)
    assert m.mrr == pytest.approx(2 / 3) and m.events == 2
    assert m.auc == 0.5  # first negatives 0.1 and 0.9 against 0.5 and 0.5
