"""The answer loop end to end on the real services: Kafka, the worker, Elasticsearch.

A customer's question to a brand's owned account needs a reply; the brand's own reply (``parent_id``)
marks it answered with the response time, whether the reply is processed after the question, before it
(out of order), or after a ``kill -9`` of the worker between the two. A question nobody answers raises an
``unanswered`` alert once its reply target passed (the worker's wall-clock timer), and the brand's reply
closes it.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from streams.schema import Mention
from streams.sources.producer import MentionProducer
from tests.integration.helpers import alert_docs, indexed_docs, wait_for

pytestmark = pytest.mark.integration

BRAND_HANDLE = "fjordbank@mastodon.example"
#: The reply target of the test brand: short, so the unanswered alert fires within the test.
TARGET_MINUTES = 0.1


@pytest.fixture
def answer_settings(lytter, tmp_path):
    watch = tmp_path / "watch.yaml"
    watch.write_text(
        yaml.safe_dump(
            {
                "brands": [
                    {
                        "name": "Fjordbank",
                        "query": "fjordbank",
                        "owned_accounts": {"mastodon": [f"@{BRAND_HANDLE}"]},
                        "reply": {"target_minutes": TARGET_MINUTES},
                    }
                ]
            }
        )
    )
    return lytter.model_copy(update={"watch_file": watch, "worker_tick_seconds": 1.0})


def customer(i: int, text: str, at: datetime) -> Mention:
    return Mention(
        id=f"it:ask:{i}", source="mastodon", text=text, published_at=at, kind="post",
        author={"handle": f"kunde{i}@mastodon.example", "followers": 120},
    )


def brand_reply(i: int, parent: str, at: datetime) -> Mention:
    return Mention(
        id=f"it:reply:{i}", source="mastodon", text="Hej! Vi har sendt dig en besked med svaret.", published_at=at,
        kind="reply", parent_id=parent, author={"handle": BRAND_HANDLE, "display_name": "Fjordbank", "followers": 9000},
    )


def send(settings, *mentions: Mention) -> None:
    with MentionProducer(settings) as producer:
        for m in mentions:
            producer.send_mention(m)


def doc(settings, mention_id: str) -> dict:
    return indexed_docs(settings).get(mention_id, {})


def test_answered_with_its_response_time_in_order_out_of_order_and_across_a_kill(answer_settings, worker_factory):
    settings = answer_settings
    t0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=30)
    worker = worker_factory(settings)
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)

    # 1. the reply after the question: a partial update of the indexed question
    send(settings, customer(1, f"@{BRAND_HANDLE} hvornår åbner jeres filial i Aarhus igen?", t0))
    wait_for(lambda: doc(settings, "it:ask:1").get("needs_reply") is True, 60, "the question indexed as needing a reply", worker)
    assert doc(settings, "it:ask:1")["addressed_to"] == ["Fjordbank"] and doc(settings, "it:ask:1")["intent"] == "question"
    send(settings, brand_reply(1, "it:ask:1", t0 + timedelta(minutes=7)))
    wait_for(lambda: doc(settings, "it:ask:1").get("answered_at"), 60, "the question marked answered", worker)
    first = doc(settings, "it:ask:1")
    assert first["response_time_s"] == 420.0 and first["answered_by"] == BRAND_HANDLE
    assert doc(settings, "it:reply:1")["owned_by"] == "Fjordbank" and not doc(settings, "it:reply:1").get("needs_reply")

    # 2. the reply first (out of order, e.g. a replay of another source): the question is written answered
    send(settings, brand_reply(2, "it:ask:2", t0 + timedelta(minutes=12)))
    wait_for(lambda: "it:reply:2" in indexed_docs(settings), 60, "the early reply indexed", worker)
    send(settings, customer(2, f"@{BRAND_HANDLE} kan I sende mig et nyt kort?", t0 + timedelta(minutes=10)))
    wait_for(lambda: doc(settings, "it:ask:2").get("answered_at"), 60, "the late question written answered", worker)
    assert doc(settings, "it:ask:2")["response_time_s"] == 120.0

    # 3. kill -9 between the question and its reply: the tracker's state comes back from its changelog
    send(settings, customer(3, f"@{BRAND_HANDLE} mit kort virker ikke i automaten, hvad gør jeg?", t0 + timedelta(minutes=20)))
    wait_for(lambda: doc(settings, "it:ask:3").get("needs_reply") is True, 60, "the third question indexed", worker)
    time.sleep(2)  # let the changelog records of that batch reach Kafka (the producer flushes each second)
    worker.kill()
    send(settings, brand_reply(3, "it:ask:3", t0 + timedelta(minutes=21)))
    worker = worker_factory(settings)
    wait_for(lambda: doc(settings, "it:ask:3").get("answered_at"), 120, "the question answered after the restart", worker)
    assert doc(settings, "it:ask:3")["response_time_s"] == 60.0
    # replays after the restart changed nothing that was right
    assert doc(settings, "it:ask:1")["response_time_s"] == 420.0 and doc(settings, "it:ask:2")["response_time_s"] == 120.0


def test_an_unanswered_question_raises_an_alert_at_its_target_and_the_reply_closes_it(answer_settings, worker_factory):
    settings = answer_settings
    worker = worker_factory(settings)
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
    asked = datetime.now(timezone.utc)
    send(settings, customer(9, f"@{BRAND_HANDLE} I har trukket mit gebyr to gange, hvorfor?", asked))
    due = asked + timedelta(minutes=TARGET_MINUTES)

    def unanswered() -> list[dict]:
        return [a for a in alert_docs(settings) if a["rule"] == "unanswered"]

    wait_for(lambda: unanswered(), 60, "the unanswered alert", worker)
    alert = unanswered()[0]
    opened = datetime.fromisoformat(alert["opened_at"])
    # not before the target: raised by the wall-clock timer once the target passed, within a few ticks
    assert opened >= due - timedelta(seconds=1), (opened, due)
    delay = (datetime.now(timezone.utc) - due).total_seconds()
    print(f"unanswered alert: target passed at {due.isoformat()}, alert opened at {opened.isoformat()} "
          f"({(opened - due).total_seconds():.1f} s after), indexed and seen by the test {delay:.1f} s after")
    assert delay < 30, delay
    assert alert["brand"] == "Fjordbank" and alert["status"] == "open"
    assert "it:ask:9" in alert["evidence"]["mention_ids"]

    send(settings, brand_reply(9, "it:ask:9", datetime.now(timezone.utc)))
    wait_for(lambda: unanswered() and unanswered()[0]["status"] == "closed", 60, "the unanswered alert closed by the reply", worker)
    assert doc(settings, "it:ask:9").get("answered_at")
