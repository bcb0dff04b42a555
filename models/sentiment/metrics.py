"""Classification metrics, small enough to own (no scikit-learn needed): confusion matrix, macro-F1, MCC.

Conventions follow scikit-learn: rows of the confusion matrix are true labels, columns predictions;
a class with no true positives has F1 0 (also when precision or recall is undefined); macro-F1 is the
unweighted mean over all classes; the multi-class MCC is Gorodkin's R_K (as
``sklearn.metrics.matthews_corrcoef``), 0 when undefined (all predictions or all labels one class).
"""

from __future__ import annotations

import math
from typing import Sequence


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> list[list[int]]:
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    cm = [[0] * n_classes for _ in range(n_classes)]
    for t, p in zip(y_true, y_pred):
        cm[t][p] += 1
    return cm


def per_class_f1(cm: list[list[int]]) -> list[float]:
    k = len(cm)
    out = []
    for c in range(k):
        tp = cm[c][c]
        predicted = sum(cm[r][c] for r in range(k))
        actual = sum(cm[c])
        if tp == 0:
            out.append(0.0)
            continue
        precision, recall = tp / predicted, tp / actual
        out.append(2 * precision * recall / (precision + recall))
    return out


def macro_f1(cm: list[list[int]]) -> float:
    """Unweighted mean of the per-class F1 over all classes of the matrix."""
    f1 = per_class_f1(cm)
    return sum(f1) / len(f1) if f1 else 0.0


def accuracy(cm: list[list[int]]) -> float:
    n = sum(map(sum, cm))
    return sum(cm[i][i] for i in range(len(cm))) / n if n else 0.0


def mcc(cm: list[list[int]]) -> float:
    """Multi-class Matthews correlation coefficient (Gorodkin 2004), in [-1, 1]."""
    k = len(cm)
    s = sum(map(sum, cm))
    c = sum(cm[i][i] for i in range(k))
    t = [sum(cm[i]) for i in range(k)]  # true counts
    p = [sum(cm[r][i] for r in range(k)) for i in range(k)]  # predicted counts
    cov_tp = c * s - sum(pk * tk for pk, tk in zip(p, t))
    cov_pp = s * s - sum(pk * pk for pk in p)
    cov_tt = s * s - sum(tk * tk for tk in t)
    if cov_pp == 0 or cov_tt == 0:
        return 0.0
    return cov_tp / math.sqrt(cov_pp * cov_tt)


def scores(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> dict:
    cm = confusion_matrix(y_true, y_pred, n_classes)
    return {
        "n": len(y_true),
        "macro_f1": macro_f1(cm),
        "mcc": mcc(cm),
        "accuracy": accuracy(cm),
        "per_class_f1": per_class_f1(cm),
        "confusion": cm,
    }


def expected_calibration_error(probabilities: Sequence[Sequence[float]], y_true: Sequence[int], bins: int = 15) -> float:
    """ECE of the top-class confidence: over equal-width confidence bins, the share-weighted mean of
    |accuracy - mean confidence| (Guo et al. 2017). 0 for no items."""
    if len(probabilities) != len(y_true):
        raise ValueError(f"{len(y_true)} true labels but {len(probabilities)} probability rows")
    totals = [[0, 0.0, 0] for _ in range(bins)]  # count, sum of confidence, correct
    for row, y in zip(probabilities, y_true):
        top = max(range(len(row)), key=lambda i: row[i])
        conf = float(row[top])
        b = min(bins - 1, int(conf * bins))
        totals[b][0] += 1
        totals[b][1] += conf
        totals[b][2] += int(top == y)
    n = len(y_true)
    if not n:
        return 0.0
    return sum(abs(c / count - s / count) * count / n for count, s, c in totals if count)
