"""Statistics of the window rules: Poisson and binomial upper tails against brute force and known values."""

from __future__ import annotations

import math

import pytest

from streams.alerting.statistics import binomial_log_sf, poisson_log_sf, poisson_sf


# --------------------------------------------------------------------------------------------------
# Poisson tail


def brute_sf(k: int, lam: float) -> float:
    return 1.0 - sum(math.exp(-lam + j * math.log(lam) - math.lgamma(j + 1)) for j in range(k))


@pytest.mark.parametrize("k,lam", [(1, 3.0), (2, 3.0), (3, 3.0), (10, 3.0), (12, 3.0), (15, 3.0), (5, 0.5), (30, 0.5),
                                   (40, 50.0), (50, 50.0), (80, 50.0), (0, 3.0), (200, 150.0)])
def test_poisson_tail_matches_brute_force(k, lam):
    expected = brute_sf(k, lam) if k > 0 else 1.0
    assert poisson_sf(k, lam) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_poisson_tail_known_values_and_extremes():
    assert poisson_sf(10, 3.0) == pytest.approx(0.0011024881301154826, rel=1e-12)
    # far in the tail: P(X >= 30 | 3) = e^-3 3^30/30! (1 + 3/31 + ...), by hand in log space
    log_first = -3 + 30 * math.log(3) - math.lgamma(31)
    ratios = [math.prod(3 / j for j in range(31, 31 + n)) for n in range(40)]  # 1, 3/31, 9/(31*32), ...
    assert poisson_log_sf(30, 3.0) == pytest.approx(log_first + math.log(sum(ratios)), rel=1e-12)
    # no underflow in log space even where the probability does
    assert math.isfinite(poisson_log_sf(2000, 0.5)) and poisson_log_sf(2000, 0.5) < -10_000
    # around the mean of a large lambda: about one half
    assert poisson_sf(1_000_000, 1_000_000.0) == pytest.approx(0.5, abs=0.001)
    assert poisson_log_sf(5, 0.0) == -math.inf


@pytest.mark.parametrize("x,n,p", [(5, 5, 0.18), (6, 12, 0.1), (8, 10, 0.1), (1, 10, 0.3), (0, 4, 0.5), (30, 100, 0.2), (3, 3, 0.02)])
def test_binomial_tail_matches_brute_force(x, n, p):
    expected = sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(x, n + 1))
    assert math.exp(binomial_log_sf(x, n, p)) == pytest.approx(expected, rel=1e-9)
    assert binomial_log_sf(11, 10, 0.5) == -math.inf
