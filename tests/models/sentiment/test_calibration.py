"""Temperature scaling and the expected calibration error."""

from __future__ import annotations

import pytest
import torch

from models.sentiment.calibration import fit_temperature, fold_temperature
from models.sentiment.metrics import expected_calibration_error


def test_ece_by_hand():
    # two items at confidence 0.9, one right: |0.5 - 0.9| over both -> 0.4
    assert expected_calibration_error([[0.9, 0.1, 0.0], [0.0, 0.1, 0.9]], [0, 0]) == pytest.approx(0.4)
    assert expected_calibration_error([[1.0, 0.0, 0.0]], [0]) == 0.0
    assert expected_calibration_error([], []) == 0.0
    with pytest.raises(ValueError):
        expected_calibration_error([[1.0, 0.0, 0.0]], [0, 1])


def test_temperature_undoes_overconfidence():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (3000,), generator=g)
    true_logits = torch.randn(3000, 3, generator=g) + torch.nn.functional.one_hot(labels, 3) * 1.5
    # draw labels from the true probabilities, then make the logits 3x too sure
    sampled = torch.multinomial(torch.softmax(true_logits, -1), 1, generator=g).squeeze(1)
    t = fit_temperature(true_logits * 3, sampled)
    assert t == pytest.approx(3.0, rel=0.15)
    before = expected_calibration_error(torch.softmax(true_logits * 3, -1).tolist(), sampled.tolist())
    after = expected_calibration_error(torch.softmax(true_logits * 3 / t, -1).tolist(), sampled.tolist())
    assert after < before / 2 and after < 0.03


def test_folding_divides_the_logits_and_keeps_predictions():
    lin = torch.nn.Linear(4, 3)
    x = torch.randn(10, 4)
    before = lin(x).detach()
    fold_temperature(lin, 2.0)
    after = lin(x).detach()
    assert torch.allclose(after, before / 2, atol=1e-6) and torch.equal(after.argmax(-1), before.argmax(-1))
    assert fit_temperature(torch.empty(0, 3), torch.empty(0, dtype=torch.long)) == 1.0
