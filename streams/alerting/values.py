"""JSON-safe values for alert evidence and window state: ISO timestamps and finite, rounded floats.

Shared by :mod:`streams.alerting.mentions`, :mod:`streams.alerting.windows`,
:mod:`streams.alerting.rules` and :mod:`streams.alerting.incidents`; ``_r`` and ``_finite`` are
internal to the alerting package.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

__all__ = ["iso"]


def iso(ts: float) -> str:
    """ISO 8601 with timezone (UTC) of epoch seconds."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def _r(value: float | None, digits: int = 4) -> float | None:
    """A JSON-safe, rounded float (``None`` for None/NaN/inf)."""
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _finite(value: float | None) -> float:
    """``value`` as a float, 0.0 for None/NaN/inf."""
    if value is None:
        return 0.0
    value = float(value)
    return value if math.isfinite(value) else 0.0
