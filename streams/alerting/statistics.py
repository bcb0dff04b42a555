"""The statistics behind the window rules: Poisson and binomial upper tails in log space (accurate far
into the tail, where the probabilities themselves underflow) and the Wilson lower bound of a share.

Pure functions of plain numbers; :mod:`streams.alerting.rules` decides what they mean.
``_wilson_lower`` is internal to the alerting package.
"""

from __future__ import annotations

import math

__all__ = ["binomial_log_sf", "poisson_log_sf", "poisson_sf"]


def poisson_log_sf(k: int, lam: float) -> float:
    """``log P(X ≥ k)`` for ``X ~ Poisson(lam)``, accurate far into the tail (no underflow to -inf).

    For ``k > lam`` the terms ``e^-λ λ^j / j!`` for ``j ≥ k`` decrease geometrically: sum them in log
    space from ``j = k``. Otherwise the tail is large and ``1 − P(X ≤ k − 1)`` is summed the same way
    downwards from ``j = k − 1``.
    """
    if k <= 0:
        return 0.0
    if lam <= 0:
        return -math.inf
    log_lam = math.log(lam)

    def log_term(j: int) -> float:
        return -lam + j * log_lam - math.lgamma(j + 1)

    if k > lam:
        total, term, j = 1.0, 1.0, k
        while True:
            j += 1
            term *= lam / j
            total += term
            if term < 1e-17 * total:
                break
        return log_term(k) + math.log(total)
    # k <= lam: cdf of k - 1, summed downwards (terms decrease as j goes down from below the mode)
    total, term, j = 1.0, 1.0, k - 1
    while j > 0:
        term *= j / lam
        j -= 1
        total += term
        if term < 1e-17 * total:
            break
    cdf = math.exp(log_term(k - 1)) * total
    return math.log1p(-min(cdf, 1.0)) if cdf < 1.0 else -math.inf


def poisson_sf(k: int, lam: float) -> float:
    """``P(X ≥ k)`` for ``X ~ Poisson(lam)`` (may underflow to 0.0 far in the tail; see :func:`poisson_log_sf`)."""
    return math.exp(poisson_log_sf(k, lam))


def binomial_log_sf(x: int, n: int, p: float) -> float:
    """``log P(X ≥ x)`` for ``X ~ Binomial(n, p)``, summed in log space from ``j = x`` (exact)."""
    if x <= 0:
        return 0.0
    if x > n or p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)

    def log_term(j: int) -> float:
        return base - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * log_p + (n - j) * log_q

    terms = [log_term(j) for j in range(x, n + 1)] if n - x < 10_000 else None
    if terms is None:  # very large windows: the normal tail is accurate there
        mean, sd = n * p, math.sqrt(n * p * (1 - p))
        return math.log(max(1e-300, 0.5 * math.erfc((x - 0.5 - mean) / (sd * math.sqrt(2.0)))))
    top = max(terms)
    return min(0.0, top + math.log(sum(math.exp(t - top) for t in terms)))


def _wilson_lower(x: int, n: int, z: float = 1.959964) -> float:
    if n == 0:
        return 0.0
    p = x / n
    den = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - margin) / den)
