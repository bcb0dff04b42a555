"""Stories end to end on the real services: copies share one story id across partitions, and the stories
survive a ``kill -9`` of the worker (their state is in a changelog-backed table)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from streams.schema import Mention
from streams.sources.producer import MentionProducer
from tests.integration.helpers import indexed_docs, wait_for

pytestmark = pytest.mark.integration

T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=20)
COPY = "Nordlys Energi har hævet prisen med 40 procent uden at sige det til nogen. Del det her så folk opdager det"
OTHER = "Nordlys Energi åbner en ny vindmøllepark ved Ringkøbing i næste måned ifølge selskabet selv"


def post(i: int, text: str) -> Mention:
    return Mention(
        id=f"it:story:{i}", source="bluesky", text=text, published_at=T0 + timedelta(seconds=10 * i),
        author={"handle": f"konto{i}.bsky.social", "followers": 50},
    )


def story_of(settings, i: int) -> str | None:
    return indexed_docs(settings).get(f"it:story:{i}", {}).get("story_id")


def test_copies_share_a_story_across_partitions_and_after_a_kill(lytter, worker_factory):
    worker = worker_factory()
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
    copies = [post(i, COPY + ("!" * (i % 3))) for i in range(6)]  # keyed by id: spread over the 3 partitions
    with MentionProducer(lytter) as producer:
        for m in [*copies, post(50, OTHER)]:
            producer.send_mention(m)
    wait_for(lambda: all(story_of(lytter, i) for i in [*range(6), 50]), 90, "the copies indexed with story ids", worker)
    docs = indexed_docs(lytter)
    story = docs["it:story:0"]["story_id"]
    assert {docs[f"it:story:{i}"]["story_id"] for i in range(6)} == {story}
    assert docs["it:story:50"]["story_id"] != story

    time.sleep(2)  # the table's changelog records of that batch reach Kafka (flushed each second)
    worker.kill()
    worker = worker_factory()
    with MentionProducer(lytter) as producer:
        producer.send_mention(post(7, "RT " + COPY))
    wait_for(lambda: story_of(lytter, 7), 120, "the copy after the restart indexed", worker)
    assert story_of(lytter, 7) == story  # the restarted worker knew the story
    assert story_of(lytter, 0) == story  # replays after the kill kept the ids
