"""Emerging terms in alert evidence: what the words of a burst are, next to how many mentions it has.

Added by the delivery stage to each open/update of a brand's alert just before it is indexed and sent: the
brand's significant terms (``keywords``, streams/query/terms.py) in the incident's span, from a little
before it opened to its latest update (event time, as the alert's times are), against the brand's week
before. One Elasticsearch aggregation per alert version; a failure leaves the alert as it was (it is still
delivered: the words are a help, the alert is the point).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from streams.query.terms import emerging_terms_async
from streams.settings import Settings

log = logging.getLogger("lytter.worker")

__all__ = ["EmergingTermsEvidence"]

#: Rules whose alerts are about a brand's words; an unanswered reply is about one waiting mention.
SKIP_RULES = frozenset({"unanswered"})


class EmergingTermsEvidence:
    def __init__(self, client: Any, settings: Settings, *, lead_in: timedelta = timedelta(minutes=10), size: int = 8) -> None:
        self.client = client
        self.settings = settings
        self.lead_in = lead_in
        self.size = size

    async def __call__(self, alert: dict[str, Any]) -> dict[str, Any]:
        if alert.get("action") == "close" or alert.get("rule") in SKIP_RULES or not alert.get("brand"):
            return alert
        try:
            start = datetime.fromisoformat(alert["opened_at"]).astimezone(timezone.utc) - self.lead_in
            end = datetime.fromisoformat(alert["updated_at"]).astimezone(timezone.utc) + timedelta(minutes=1)
            terms = await emerging_terms_async(self.client, self.settings, brand=alert["brand"], start=start, end=end, size=self.size)
        except Exception as exc:  # noqa: BLE001 - see the module docstring
            log.warning("alert %s: emerging terms not added (%s)", alert.get("alert_id"), exc)
            return alert
        if terms:
            alert.setdefault("evidence", {})["emerging_terms"] = terms
        return alert
