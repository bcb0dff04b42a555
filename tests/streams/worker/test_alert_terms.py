"""Emerging terms added to an alert's evidence at delivery (one aggregation; never blocking the alert)."""

from streams.settings import Settings
from streams.worker.alert_terms import EmergingTermsEvidence


class FakeClient:
    def __init__(self, response=None, fail=None):
        self.response, self.fail, self.calls = response, fail, []

    async def search(self, **kwargs):
        self.calls.append(kwargs)
        if self.fail:
            raise self.fail
        return self.response


def alert(**extra):
    return {"alert_id": "a1", "brand": "Nordlys Energi", "rule": "volume_spike", "action": "open",
            "opened_at": "2026-12-02T09:00:00+00:00", "updated_at": "2026-12-02T09:04:00+00:00", "evidence": {}, **extra}


RESPONSE = {"aggregations": {"emerging": {"doc_count": 40, "bg_count": 900, "buckets": [
    {"key": "tilbagekaldelse", "doc_count": 30, "bg_count": 31, "score": 9.1},
    {"key": "batteri", "doc_count": 20, "bg_count": 25, "score": 5.2},
]}}}


async def test_the_terms_of_the_incident_span_go_into_the_evidence():
    client = FakeClient(RESPONSE)
    out = await EmergingTermsEvidence(client, Settings())(alert())
    assert [t["term"] for t in out["evidence"]["emerging_terms"]] == ["tilbagekaldelse", "batteri"]
    query = str(client.calls[0])
    assert "2026-12-02T08:50:00" in query and "2026-12-02T09:05:00" in query  # a lead-in before, a minute after


async def test_closes_and_unanswered_alerts_are_not_queried_and_a_failure_keeps_the_alert():
    client = FakeClient(RESPONSE)
    describe = EmergingTermsEvidence(client, Settings())
    assert await describe(alert(action="close")) == alert(action="close")
    assert await describe(alert(rule="unanswered")) == alert(rule="unanswered")
    assert client.calls == []
    broken = EmergingTermsEvidence(FakeClient(fail=ConnectionError("es down")), Settings())
    assert await broken(alert()) == alert()
