"""The reply queue and the inbox actions on the real Elasticsearch, with documents of the real mapping."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from streams.inbox.actions import InboxConflict, make_action, perform
from streams.inbox.queue import QueueFilter, Version, fetch_queue, inbox_summary, queue_sizes
from streams.schema import Author, BrandSentiment, EnrichedMention, Engagement, Mention, Sentiment
from streams.settings import Settings
from streams.sinks.elasticsearch import sync_client

pytestmark = pytest.mark.integration

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def queued_mention(mention_id: str, *, brand: str = "Fjordbank", text: str = "Hvornår åbner I igen?", lang: str = "da",
                   source: str = "mastodon", minutes_ago: float = 10, influence: float = 10.0, reach: float = 100.0,
                   brand_score: float | None = None, score: float | None = None, **extra) -> EnrichedMention:
    """A mention the worker would have marked as needing a reply from ``brand``."""
    mention = Mention(id=mention_id, source=source, text=text, author=Author(handle=f"user-{mention_id}", followers=int(reach)),
                      published_at=NOW - timedelta(minutes=minutes_ago), engagement=Engagement(likes=1))
    sentiment = None
    if score is not None:
        sentiment = Sentiment(label="negative" if score < -0.2 else "neutral", score=score,
                              probabilities={"negative": 0.5, "neutral": 0.3, "positive": 0.2}, model_version="test")
    brand_sentiment = []
    if brand_score is not None:
        label = "negative" if brand_score < -0.2 else ("positive" if brand_score > 0.2 else "neutral")
        brand_sentiment = [BrandSentiment(brand=brand, label=label, score=brand_score)]
    fields = dict(mention=mention, lang=lang, lang_confidence=0.99, sentiment=sentiment, brands=[brand],
                  brand_sentiment=brand_sentiment, influence=influence, reach=reach, impact=0.0, intent="question",
                  intent_confidence=0.9, addressed_to=[brand], needs_reply=True,
                  reply_due_at=mention.published_at + timedelta(minutes=60))
    fields.update(extra)
    return EnrichedMention(**fields)


def index_mentions(settings: Settings, mentions: list[EnrichedMention]) -> None:
    """Index through the write alias, as the worker does, and make them searchable now.

    The queue tests only need documents in the index; a variant that fills it from a real worker run
    can replace this call with one that publishes the mentions and waits for them (same Settings)."""
    client = sync_client(settings)
    try:
        for enriched in mentions:
            doc = enriched.to_document()
            client.index(index=settings.es_index_prefix, id=doc["id"], document=doc)
        client.indices.refresh(index=settings.es_index_prefix)
    finally:
        client.close()


def inbox_of(settings: Settings, mention_id: str) -> dict:
    client = sync_client(settings)
    try:
        hits = client.search(index=settings.es_index_prefix, query={"ids": {"values": [mention_id]}})["hits"]["hits"]
        return hits[0]["_source"].get("inbox") or {}
    finally:
        client.close()


def test_queue_order_follows_the_priority_and_agrees_with_its_parts(lytter):
    index_mentions(lytter, [
        queued_mention("calm", minutes_ago=5, influence=5, reach=50, brand_score=0.6),
        queued_mention("angry-big", minutes_ago=20, influence=80, reach=200_000, brand_score=-0.9),
        queued_mention("overdue", minutes_ago=600, influence=10, reach=10, brand_score=0.1),
        queued_mention("mention-sentiment", minutes_ago=30, influence=20, reach=100, score=-0.8),
    ])
    queue = fetch_queue(lytter, now=NOW)
    order = [item.id for item in queue.items]
    assert order == ["angry-big", "overdue", "mention-sentiment", "calm"]
    assert queue.total == 4
    for item in queue.items:  # the cluster's score is the documented formula (float32 on the cluster)
        assert item.priority == pytest.approx(item.parts.total, rel=1e-4, abs=1e-3), item.id
    by_id = {item.id: item for item in queue.items}
    assert by_id["mention-sentiment"].parts.negativity == pytest.approx(35 * 0.8)
    assert by_id["calm"].parts.negativity == 0
    assert by_id["overdue"].parts.waiting == pytest.approx(50.0)
    assert by_id["calm"].waiting_s == pytest.approx(300, abs=1)


def test_queue_leaves_out_what_needs_no_reply_and_filters(lytter):
    index_mentions(lytter, [
        queued_mention("q-da", brand="Fjordbank"),
        queued_mention("q-sv", brand="Fjordbank", lang="sv", source="bluesky"),
        queued_mention("q-other-brand", brand="Nordlys"),
        queued_mention("answered", answered_at=NOW - timedelta(minutes=1)),
        queued_mention("no-need", needs_reply=False),
        queued_mention("deleted", deleted_at=NOW - timedelta(minutes=1)),
    ])
    assert {i.id for i in fetch_queue(lytter).items} == {"q-da", "q-sv", "q-other-brand"}
    assert [i.id for i in fetch_queue(lytter, QueueFilter(brand="Nordlys")).items] == ["q-other-brand"]
    assert [i.id for i in fetch_queue(lytter, QueueFilter(lang="sv")).items] == ["q-sv"]
    assert [i.id for i in fetch_queue(lytter, QueueFilter(source="bluesky", brand="Fjordbank")).items] == ["q-sv"]
    assert queue_sizes(lytter) == {"Fjordbank": 2, "Nordlys": 1}
    summary = inbox_summary(lytter, now=NOW + timedelta(minutes=55))  # all three were published 10 min before NOW
    assert (summary.total, summary.overdue) == (3, 3) and summary.oldest_wait_s == pytest.approx(65 * 60, abs=2)
    assert summary.status_line() == "inbox: 3 waiting for a reply (Fjordbank 2, Nordlys 1); 3 past the 60-minute target, oldest 65 min"
    assert inbox_summary(lytter, now=NOW).overdue == 0
    perform(lytter, "q-da", make_action("handled"), "alice")
    assert queue_sizes(lytter) == {"Fjordbank": 1, "Nordlys": 1}
    assert "q-da" not in {i.id for i in fetch_queue(lytter).items}


def test_two_actions_on_the_same_version_one_wins(lytter):
    index_mentions(lytter, [queued_mention("contested")])
    seen = fetch_queue(lytter).items[0].version
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def act(who: str, to: str) -> None:
        barrier.wait()
        try:
            outcomes[who] = perform(lytter, "contested", make_action("assign", to=to), who, version=seen)
        except InboxConflict as exc:
            outcomes[who] = exc

    threads = [threading.Thread(target=act, args=(who, to)) for who, to in (("alice", "alice"), ("bob", "carol"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    conflicts = [who for who, outcome in outcomes.items() if isinstance(outcome, InboxConflict)]
    assert len(outcomes) == 2 and len(conflicts) == 1, outcomes
    winner = "bob" if conflicts == ["alice"] else "alice"
    loser_error = outcomes[conflicts[0]]
    assert loser_error.last_change["by"] == winner and loser_error.last_change["action"] == "assign"
    assert winner in str(loser_error)
    state = inbox_of(lytter, "contested")
    assert state["assignee"] == ("alice" if winner == "alice" else "carol")
    assert [entry["by"] for entry in state["audit"]] == [winner]


def test_a_stale_version_is_refused_and_nothing_is_written(lytter):
    index_mentions(lytter, [queued_mention("stale")])
    seen = fetch_queue(lytter).items[0].version
    perform(lytter, "stale", make_action("note", text="ringer dem op"), "alice", version=seen)
    with pytest.raises(InboxConflict) as caught:
        perform(lytter, "stale", make_action("handled"), "bob", version=seen)
    assert caught.value.last_change["by"] == "alice" and caught.value.last_change["action"] == "note"
    state = inbox_of(lytter, "stale")
    assert state["status"] == "open" and state["notes"][0]["text"] == "ringer dem op"


def test_snooze_hides_then_returns(lytter):
    index_mentions(lytter, [queued_mention("sleepy"), queued_mention("awake")])
    perform(lytter, "sleepy", make_action("snooze", duration="2h", now=NOW), "alice", now=NOW)
    assert [i.id for i in fetch_queue(lytter, now=NOW + timedelta(minutes=1)).items] == ["awake"]
    back = fetch_queue(lytter, now=NOW + timedelta(hours=2, minutes=1))
    assert {i.id for i in back.items} == {"sleepy", "awake"}
    perform(lytter, "sleepy", make_action("reopen"), "bob")
    assert {i.id for i in fetch_queue(lytter).items} == {"sleepy", "awake"}
    assert inbox_of(lytter, "sleepy")["snoozed_until"] is None


def test_cli_lists_acts_and_reports_a_conflict(lytter, monkeypatch):
    from streams.cli import app

    for name, value in lytter.to_env().items():
        monkeypatch.setenv(name, value)
    index_mentions(lytter, [queued_mention("cli-1", text="Min konto er spærret, hjælp!")])
    runner = CliRunner()
    listed = runner.invoke(app, ["inbox", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    version = Version.parse(json.loads(listed.output.splitlines()[0])["version"])
    assigned = runner.invoke(app, ["inbox", "assign", "cli-1", "--to", "dana", "--as", "erik", "--version", str(version)])
    assert assigned.exit_code == 0, assigned.output
    stale = runner.invoke(app, ["inbox", "handled", "cli-1", "--as", "frida", "--version", str(version)])
    assert stale.exit_code == 1
    assert "erik" in stale.output and "assign" in stale.output
    shown = runner.invoke(app, ["inbox", "show", "cli-1"])
    assert shown.exit_code == 0 and "dana" in shown.output and "spærret" in shown.output
    assert inbox_of(lytter, "cli-1")["status"] == "assigned"
