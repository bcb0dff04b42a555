"""The digest on the real Elasticsearch: a week of synthetic mentions for two brands and a competitor,
some alerts; the report opened in headless chromium (every chart loads, none is the placeholder), and
e-mailed to a local SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import socket
from datetime import datetime, timedelta, timezone

import pytest
from aiosmtpd.controller import Controller
from elasticsearch.helpers import bulk

from streams.alerting.incidents import Alert
from streams.digest.build import build_digest
from streams.digest.mail import send_digest
from streams.digest.schedule import DigestScheduler
from streams.schema import Author, BrandSentiment, Engagement, EnrichedMention, Mention, Sentiment
from streams.sinks.elasticsearch import alert_mappings, sync_client
from tests.browser import browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration

HOSTILE = 'Nordlys Energi <script>document.title="pwned"</script> & <img src=x onerror=alert(1)> stinker!'
WATCH = """
brands:
  - {name: Nordlys Energi, query: 'nordlys*', competitors: [Fjordbank]}
  - {name: Fjordbank, query: 'fjordbank*'}
  - {name: Skandi Air, query: 'skandiair*'}
"""
COUNTS = {"Nordlys Energi": 180, "Fjordbank": 90, "Skandi Air": 60}
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _mention(rng: random.Random, brand: str, number: int) -> EnrichedMention:
    published = NOW - timedelta(seconds=rng.randint(60, 7 * 86400 - 60))
    label = rng.choice(["negative", "neutral", "neutral", "positive"])
    score = {"negative": -0.7, "neutral": 0.0, "positive": 0.7}[label]
    text = HOSTILE if (brand == "Nordlys Energi" and number == 0) else f"{brand} mention {number}: sagt om {brand.lower()}"
    fields = dict(
        mention=Mention(
            id=f"digest:{brand}:{number}", source=rng.choice(["bluesky", "mastodon", "rss"]), text=text,
            author=Author(handle=f"user{number % 40}"), published_at=published, engagement=Engagement(likes=number % 13),
            url=f"https://social.example/{number}",
        ),
        lang="da", lang_confidence=0.98,
        sentiment=Sentiment(label=label, score=score, probabilities={label: 0.9}, model_version="synthetic"),
        brands=[brand], brand_sentiment=[BrandSentiment(brand=brand, label=label, score=score)],
        reach=float(rng.randint(10, 5000)), impact=round(rng.random(), 3),
    )
    if number == 0 and brand == "Nordlys Energi":
        fields.update(reach=10_000_000.0, impact=9.0, story_id="story-hostile")  # the top story
    elif number % 4 and brand != "Skandi Air":  # three in four belong to a story; Skandi Air has none (story stage off)
        fields["story_id"] = f"story-{brand[:3]}-{number % 12}"
    if number % 5 == 0:  # the answer loop: some need a reply, most of those were answered
        answered = number % 15 != 0
        fields.update(needs_reply=True, reply_due_at=published + timedelta(hours=1))
        if answered:
            delay = float(rng.randint(300, 3 * 3600))
            fields.update(answered_at=published + timedelta(seconds=delay), answered_by="support", response_time_s=delay)
    return EnrichedMention(**fields)


def _alerts() -> list[dict]:
    base = NOW.timestamp()
    return [
        Alert(f"a{i}", brand, rule, severity, title, status, base - hours * 3600, base - hours * 3600 + 600, updates=1).to_document()
        for i, (brand, rule, severity, title, status, hours) in enumerate(
            [
                ("Nordlys Energi", "volume_spike", "critical", "Volume spike: 64 mentions in 5 min", "closed", 30),
                ("Nordlys Energi", "crisis_keyword", "warning", "Crisis keyword <boykot>", "open", 5),
                ("Skandi Air", "negative_surge", "warning", "Negative surge", "closed", 50),
                ("Nordlys Energi", "volume_spike", "info", "Old spike, outside the week", "closed", 24 * 20),
            ]
        )
    ]


@pytest.fixture
def digest_settings(lytter, tmp_path):
    watch = tmp_path / "watch.yaml"
    watch.write_text(WATCH, encoding="utf-8")
    settings = lytter.model_copy(update={"watch_file": watch, "digest_timezone": "Europe/Copenhagen", "reply_target_minutes": 60.0})
    rng = random.Random(18)
    mentions = [_mention(rng, brand, n) for brand, count in COUNTS.items() for n in range(count)]
    client = sync_client(settings)
    try:
        ok, errors = bulk(client, ({"_index": settings.es_index_prefix, "_id": m.mention.id, "_source": m.to_document()} for m in mentions), refresh=True)
        assert ok == len(mentions) and not errors
        client.indices.create(index=settings.es_alerts_index, mappings=alert_mappings())
        for alert in _alerts():
            client.index(index=settings.es_alerts_index, id=alert["alert_id"], document=alert, refresh=True)
    finally:
        client.close()
    yield settings
    client = sync_client(settings)
    try:
        client.options(ignore_status=404).indices.delete(index=settings.es_alerts_index)
    finally:
        client.close()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 accepted"


@pytest.fixture
def smtp_inbox():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _chart_states(driver) -> list[dict]:
    return driver.execute_script(
        "return [...document.querySelectorAll('img.chart')].map(i => ({id: i.id, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight, empty: i.dataset.empty}))"
    )


def test_brand_digest_renders_in_a_browser(digest_settings, browser, tmp_path):  # noqa: F811
    digest = build_digest(digest_settings, "Nordlys Energi", "7d", now=NOW)
    print(f"\ndigest render time (Nordlys Energi, {digest.data.total} mentions): {digest.seconds:.3f}s " + str({k: round(v, 3) for k, v in digest.timings.items()}))
    data = digest.data
    assert data.total == COUNTS["Nordlys Energi"]
    assert sum(count for _, count in data.per_day) == sum(data.per_hour) == data.total
    assert sum(sum(c.values()) for _, c in data.sentiment_per_day) == data.total
    assert dict(data.share_of_voice) == {"Nordlys Energi": 180, "Fjordbank": 90}
    assert data.stories[0].key == "story-hostile" and data.stories[0].text == HOSTILE
    reaches = [s.reach for s in data.stories]
    assert len(data.stories) == 10 and reaches == sorted(reaches, reverse=True)
    assert [a["alert_id"] for a in data.alerts] == ["a1", "a0"]  # newest first; the old one and Skandi Air's left out
    assert data.responses is not None and data.responses.answered > 0 and data.responses.open_queue > 0
    assert data.responses.median_s is not None and data.responses.p90_s >= data.responses.median_s

    page = digest.write(tmp_path / "nordlys.html")
    browser.get(page.as_uri())
    states = _chart_states(browser)
    assert len(states) == 4, states
    for state in states:
        assert state["complete"] and state["width"] > 0 and state["height"] > 0, state
        assert state["empty"] == "false", state
    assert browser.title == "Lytter digest: Nordlys Energi"  # the hostile script never ran
    assert browser.execute_script("return document.querySelectorAll('script').length") == 0
    body = browser.find_element("tag name", "body").text
    assert '<script>document.title="pwned"</script>' in body  # shown as text
    assert "Crisis keyword <boykot>" in body and "answered: median" in body


def test_all_brands_digest_and_email(digest_settings, smtp_inbox):
    inbox, port = smtp_inbox
    settings = digest_settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_sender": "lytter@digest.example", "digest_recipients": "team@nordlys.example"})
    digest = build_digest(settings, None, "7d", now=NOW)
    print(f"\ndigest render time (all brands, {digest.data.total} mentions): {digest.seconds:.3f}s " + str({k: round(v, 3) for k, v in digest.timings.items()}))
    assert digest.data.total == sum(COUNTS.values())
    assert dict(digest.data.share_of_voice) == COUNTS
    assert not any(chart.empty for chart in digest.charts)

    # without story ids each mention is its own story, by reach
    single = build_digest(settings, "Skandi Air", "7d", now=NOW).data.stories
    assert len(single) == 10 and all(s.key.startswith("digest:Skandi Air:") and s.mentions == 1 for s in single)
    assert [s.reach for s in single] == sorted((s.reach for s in single), reverse=True)

    asyncio.run(send_digest(settings, digest))
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert "All brands" in message["Subject"] and message["To"] == "team@nordlys.example"
    types = [part.get_content_type() for part in message.walk()]
    assert "text/plain" in types and "text/html" in types and types.count("image/png") == 4
    assert "Nordlys Energi" in message.get_body(("plain",)).get_content()
    assert "Skandi Air" in message.get_body(("html",)).get_content()


async def test_scheduled_run_sends_each_brand_once(digest_settings, smtp_inbox):
    inbox, port = smtp_inbox
    settings = digest_settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_sender": "lytter@digest.example", "digest_recipients": "team@nordlys.example", "digest_schedule": "daily:08:00"}
    )
    scheduler = DigestScheduler(settings, now=NOW - timedelta(days=1))
    assert scheduler.due(NOW)
    assert await scheduler.run_due(NOW) == 3
    assert await scheduler.run_due(NOW + timedelta(minutes=1)) == 0
    subjects = sorted(m["Subject"].split(":")[0] for m in inbox.messages)
    assert subjects == ["[Lytter digest] Fjordbank", "[Lytter digest] Nordlys Energi", "[Lytter digest] Skandi Air"]
    assert not DigestScheduler(settings, now=NOW).due(NOW + timedelta(minutes=2))  # a restart does not send again


def test_cli_writes_and_sends(digest_settings, smtp_inbox, tmp_path):
    from typer.testing import CliRunner

    from streams.cli import app

    inbox, port = smtp_inbox
    settings = digest_settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_sender": "lytter@digest.example", "digest_recipients": "team@nordlys.example"})
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["digest", "--brand", "Nordlys Energi", "--since", "7d", "--out", str(out), "--send"], env=settings.to_env())
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and "180 mentions" in result.output and "sent to 1 recipient(s)" in result.output
    assert "Lytter digest: Nordlys Energi" in out.read_text(encoding="utf-8")
    assert len(inbox.messages) == 1 and "Nordlys Energi" in inbox.messages[0]["Subject"]


def test_missing_index_names_the_setting(digest_settings):
    from streams.digest.queries import DigestError

    with pytest.raises(DigestError, match="has no index 'no-such-prefix' \\(setting LYTTER_ES_INDEX_PREFIX\\): run `lytter es setup`"):
        build_digest(digest_settings.model_copy(update={"es_index_prefix": "no-such-prefix"}), "Fjordbank", "7d")
