"""Edits and deletions end to end on the real services: Kafka, the worker, Elasticsearch.

An edit is the same mention id again (``edited_at`` set): the document changes. A deletion goes through
``mentions.deletions``: the document loses its text and personal data within seconds and keeps an
anonymous tombstone; a replay of the original mention afterwards stays a tombstone.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from streams.schema import Deletion, Mention
from streams.sources.producer import MentionProducer
from tests.integration.helpers import indexed_docs, wait_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def mention(i: int, text: str, **extra) -> Mention:
    return Mention(
        id=f"it:edit:{i}", source="mastodon", text=text, published_at=T0 + timedelta(minutes=i),
        author={"handle": f"kunde{i}@mastodon.example", "display_name": f"Kunde {i}", "followers": 40},
        url=f"https://mastodon.example/@kunde{i}/{i}", **extra,
    )


def test_an_edit_changes_the_document_and_a_deletion_leaves_an_anonymous_tombstone(lytter, worker_factory):
    worker = worker_factory()
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
    originals = [mention(i, f"Fjordbank svarer ikke på mine mails, dag {i}") for i in range(3)]
    with MentionProducer(lytter) as producer:
        for m in originals:
            producer.send_mention(m)
    wait_for(lambda: len(indexed_docs(lytter)) == 3, 90, "the three mentions indexed", worker)

    edited = mention(0, "Rettelse: Fjordbank svarte i går, tak for hjælpen", edited_at=T0 + timedelta(hours=1))
    with MentionProducer(lytter) as producer:
        producer.send_mention(edited)
        producer.send_deletion(Deletion(id="it:edit:1", source="mastodon", reason="deleted"))
    deleted_sent = time.monotonic()
    wait_for(lambda: indexed_docs(lytter)["it:edit:0"]["text"].startswith("Rettelse"), 60, "the edit indexed", worker)
    wait_for(lambda: indexed_docs(lytter)["it:edit:1"].get("deleted") is True, 60, "the deletion honoured", worker)
    honoured_in = time.monotonic() - deleted_sent

    docs = indexed_docs(lytter)
    assert docs["it:edit:0"]["edited_at"].startswith("2026-12-02T10:00")
    tomb = docs["it:edit:1"]
    assert tomb["text"] == "" and tomb["author"] is None and tomb["url"] is None and tomb.get("raw") is None
    assert tomb["published_at"].startswith("2026-12-02T09:01") and tomb["source"] == "mastodon"  # kept for the counts
    assert docs["it:edit:2"]["text"].startswith("Fjordbank svarer ikke")
    assert honoured_in < 30, honoured_in

    # a replay of the deleted mention (a late page, a re-ingest) must not bring its text back
    with MentionProducer(lytter) as producer:
        producer.send_mention(originals[1])
        producer.send_mention(mention(3, "Fjordbank: ny app i dag"))
    wait_for(lambda: "it:edit:3" in indexed_docs(lytter), 60, "the mention after the replay indexed", worker)
    time.sleep(2)
    again = indexed_docs(lytter)["it:edit:1"]
    assert again["text"] == "" and again["author"] is None and again["deleted"] is True
    assert len(indexed_docs(lytter)) == 4
