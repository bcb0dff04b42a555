"""The metrics against values computed by hand."""

from __future__ import annotations

import pytest

from models.sentiment.metrics import accuracy, confusion_matrix, macro_f1, mcc, per_class_f1, scores

# true 0 -> predicted 0, 0, 1; true 1 -> 1, 2; true 2 -> 2, 2, 0, 2
Y_TRUE = [0, 0, 0, 1, 1, 2, 2, 2, 2]
Y_PRED = [0, 0, 1, 1, 2, 2, 2, 0, 2]


def test_confusion_matrix_rows_are_true_labels():
    assert confusion_matrix(Y_TRUE, Y_PRED, 3) == [[2, 1, 0], [0, 1, 1], [1, 0, 3]]


def test_f1_by_hand():
    cm = confusion_matrix(Y_TRUE, Y_PRED, 3)
    # class 0: P = 2/3, R = 2/3; class 1: P = R = 1/2; class 2: P = R = 3/4
    assert per_class_f1(cm) == pytest.approx([2 / 3, 1 / 2, 3 / 4])
    assert macro_f1(cm) == pytest.approx(23 / 36)  # (8/12 + 6/12 + 9/12) / 3


def test_mcc_by_hand():
    cm = confusion_matrix(Y_TRUE, Y_PRED, 3)
    # Gorodkin: c = 6 correct of s = 9; predicted counts p = (3, 2, 4), true counts t = (3, 2, 4)
    # (c*s - p.t) / sqrt((s^2 - p.p)(s^2 - t.t)) = (54 - 29) / sqrt(52 * 52) = 25 / 52
    assert mcc(cm) == pytest.approx(25 / 52)
    assert accuracy(cm) == pytest.approx(2 / 3)


def test_degenerate_cases():
    one_class = confusion_matrix([0, 1, 2], [0, 0, 0], 3)
    assert per_class_f1(one_class) == pytest.approx([0.5, 0.0, 0.0])  # P = 1/3, R = 1
    assert macro_f1(one_class) == pytest.approx(1 / 6)
    assert mcc(one_class) == 0.0  # undefined (one predicted class) -> 0
    assert mcc(confusion_matrix([0, 1, 2], [0, 1, 2], 3)) == pytest.approx(1.0)
    # exactly inverted: c = 0, p = t = (2, 0, 2): (0 - 8) / sqrt(8 * 8) = -1
    assert mcc(confusion_matrix([0, 0, 2, 2], [2, 2, 0, 0], 3)) == pytest.approx(-1.0)


def test_scores_bundle_and_length_check():
    s = scores(Y_TRUE, Y_PRED, 3)
    assert s["n"] == 9 and s["confusion"] == [[2, 1, 0], [0, 1, 1], [1, 0, 3]]
    assert s["macro_f1"] == pytest.approx(23 / 36) and s["mcc"] == pytest.approx(25 / 52)
    with pytest.raises(ValueError):
        confusion_matrix([0, 1], [0], 3)
