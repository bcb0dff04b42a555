"""Temperature scaling (Guo et al. 2017): one scalar T that divides the logits, fitted on dev by
minimising the negative log-likelihood. It changes no prediction, only how sure the probabilities are.
The build folds 1/T into the classifier's weights, so the exported model's own softmax is calibrated
and every reader of the model (the API, ``transformers.pipeline``) gets the calibrated numbers.
"""

from __future__ import annotations

import math

T_MIN, T_MAX = 0.05, 20.0


def fit_temperature(logits, labels, steps: int = 200) -> float:
    """The T in [T_MIN, T_MAX] minimising NLL(softmax(logits / T), labels); 1.0 for no items."""
    import torch

    logits = torch.as_tensor(logits, dtype=torch.float64)
    labels = torch.as_tensor(labels, dtype=torch.long)
    if logits.numel() == 0:
        return 1.0
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=steps, line_search_fn="strong_wolfe")
    loss_fn = torch.nn.CrossEntropyLoss()

    def closure():
        opt.zero_grad()
        loss = loss_fn(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    opt.step(closure)
    t = float(log_t.detach().exp())
    if not math.isfinite(t):
        return 1.0
    return min(T_MAX, max(T_MIN, t))


def fold_temperature(classifier, temperature: float) -> None:
    """Divide a Linear classifier's weight and bias by T, in place (logits / T, no extra op at run time)."""
    import torch

    with torch.no_grad():
        classifier.weight.div_(temperature)
        classifier.bias.div_(temperature)
