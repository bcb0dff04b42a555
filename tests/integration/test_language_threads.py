"""Language on short replies, on the real services: a thread whose first post is clearly Nynorsk keeps its
short, ambiguous replies in Nynorsk (lingua alone reads them as da, nb, sv, da and en)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from streams.schema import Mention
from streams.sources.producer import MentionProducer
from tests.integration.helpers import indexed_docs, wait_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
PARENT = "Eg har vore kunde hjå Fjordbank i mange år, men no har dei kutta ut det lokale kontoret vårt, og det synest eg er synd for bygda."
REPLIES = ["Det stemmer.", "Takk for det!", "Ja, det er synd.", "Helt enig", "Same her"]


def test_short_replies_in_a_nynorsk_thread_are_indexed_as_nynorsk(lytter, worker_factory):
    worker = worker_factory()
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
    parent = Mention(id="it:nn:0", source="mastodon", text=PARENT, published_at=T0, author={"handle": "bygdefolk@mastodon.example"})
    replies = [
        Mention(id=f"it:nn:{i}", source="mastodon", text=text, parent_id=parent.id, kind="comment",
                published_at=T0 + timedelta(minutes=i), author={"handle": f"svar{i}@mastodon.example"})
        for i, text in enumerate(REPLIES, 1)
    ]
    with MentionProducer(lytter) as producer:
        producer.send_mention(parent)
    wait_for(lambda: parent.id in indexed_docs(lytter), 60, "the first post indexed", worker)
    with MentionProducer(lytter) as producer:
        for reply in replies:
            producer.send_mention(reply)
    wait_for(lambda: len(indexed_docs(lytter)) == 1 + len(replies), 60, "the replies indexed", worker)
    langs = {doc_id: doc["lang"] for doc_id, doc in indexed_docs(lytter).items()}
    assert langs == {m.id: "nn" for m in [parent, *replies]}, langs
