"""How urgent a waiting mention is: the severity of its reply deadline and of the unanswered alert.

Thresholds (influence is 0-100 as in :mod:`models.influence`, reach is estimated people reached):

* **critical**: influence >= 70, or negative toward the brand with reach >= 10,000. A well-followed
  author, or a complaint many people see, turns into a story when it sits unanswered.
* **warning**: negative toward the brand, a complaint, influence >= 40, or reach >= 1,000.
* **info**: everything else (a plain question from a small account).

"Negative" is the brand's own sentiment when the worker scored one (a mention can praise one brand and
run down another), else the mention's: label ``negative`` or score <= -0.4, as the alert rules read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streams.schema import EnrichedMention

__all__ = ["CRITICAL_INFLUENCE", "CRITICAL_NEGATIVE_REACH", "WARNING_INFLUENCE", "WARNING_REACH", "waiting_severity"]

CRITICAL_INFLUENCE = 70.0
CRITICAL_NEGATIVE_REACH = 10_000.0
WARNING_INFLUENCE = 40.0
WARNING_REACH = 1_000.0
NEGATIVE_SCORE = -0.4


def is_negative_toward(enriched: EnrichedMention, brand: str) -> bool:
    sentiment = enriched.sentiment_for(brand) or enriched.sentiment
    if sentiment is None:
        return False
    return sentiment.label == "negative" or sentiment.score <= NEGATIVE_SCORE


def waiting_severity(enriched: EnrichedMention, brand: str) -> str:
    """``info`` / ``warning`` / ``critical`` of a mention waiting for ``brand`` (thresholds above)."""
    influence = enriched.influence or 0.0
    reach = enriched.reach or 0.0
    negative = is_negative_toward(enriched, brand)
    if influence >= CRITICAL_INFLUENCE or (negative and reach >= CRITICAL_NEGATIVE_REACH):
        return "critical"
    if negative or enriched.intent == "complaint" or influence >= WARNING_INFLUENCE or reach >= WARNING_REACH:
        return "warning"
    return "info"
