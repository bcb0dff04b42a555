"""10,000 malformed and hostile records through ingest and worker (the production configuration: the model
on, the default batches in flight): nothing crashes, nothing is lost."""

from __future__ import annotations

import json
import random

import pytest

from streams.sources.producer import MentionProducer
from tests.integration.helpers import dead_letters, distinct_dead_letters, indexed_count, indexed_docs, topic_count, wait_for

pytestmark = pytest.mark.integration

COUNT = 10_000


def hostile_records(count: int, seed: int = 1234):
    """(key, value, expect) with expect in {"index", "dead", "either"}; every shape of bad input we know."""
    rng = random.Random(seed)

    def base(i):
        return {"id": f"h{i}", "source": "fuzz", "text": "Hej Lego", "published_at": "2026-11-23T08:00:00+01:00"}

    makers = [
        ("index", lambda i: base(i)),
        ("dead", lambda i: json.dumps(base(i)).encode()[: rng.randrange(1, 40)]),  # truncated JSON
        ("dead", lambda i: b'{"id": "h%d", "text": "\xff\xfe\xc3\x28"}' % i),  # invalid UTF-8
        ("dead", lambda i: {**base(i), "text": rng.choice([12, None, ["a"], {"t": 1}, True])}),  # wrong types
        ("dead", lambda i: {**base(i), "published_at": rng.choice(["yesterday", "2026-13-45T00:00:00Z", 10**15, "2026-11-23T08:00:00"])}),
        ("dead", lambda i: ("[" * rng.randrange(65, 3000) + "]" * 10).encode()),  # deep nesting
        ("dead", lambda i: {**base(i), "text": "".join(rng.choice("\u200b\u200c\u200d\u2060\ufeff\x00\x07 \n") for _ in range(rng.randrange(1, 50)))}),
        ("index", lambda i: {**base(i), "text": "<script>alert('lytter')</script> <b>Lego</b> &amp; <img src=x onerror=alert(1)>"}),
        ("index", lambda i: {**base(i), "text": "😡🤬💩" * rng.randrange(1, 20)}),  # emoji only
        ("index", lambda i: {**base(i), "text": "Lego\x01\x02\x1b[31m ctrl \x7f chars"}),
        ("index", lambda i: {**base(i), "published_at": rng.choice(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z"])}),
        ("index", lambda i: {**base(i), "text": "Lego " * rng.randrange(5_000, 19_000)}),  # huge but allowed
        ("dead", lambda i: {**base(i), "text": "x" * 100_001}),  # over the limit
        ("dead", lambda i: {**base(i), "author": {"handle": "", "followers": -5}}),
        ("dead", lambda i: {**base(i), "extra": {"not": "in the schema"}}),
        ("either", lambda i: {**base(i), "raw": json.loads('{"n": ' + "[" * 30 + "1" + "]" * 30 + "}")}),
        ("dead", lambda i: b""),
        ("dead", lambda i: b"null"),
        ("dead", lambda i: b'"just a string"'),
        ("index", lambda i: {**base(i), "text": "Ærø Øresund Åland Älmhult Örebro — ﬁne ligatures, RTL \u202e txet"}),
    ]
    weights = [40] + [3] * (len(makers) - 1)
    for i in range(count):
        expect, make = rng.choices(makers, weights=weights)[0]
        value = make(i)
        if isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=rng.random() < 0.5).encode("utf-8")
        yield f"h{i}".encode(), value, expect


def test_ten_thousand_hostile_records_are_indexed_or_dead_lettered(lytter_production, worker_factory):
    lytter = lytter_production
    records = list(hostile_records(COUNT))
    with MentionProducer(lytter) as producer:
        for key, value, _ in records:
            producer.send_raw(key, value)
    assert producer.report.published == COUNT
    worker = worker_factory(lytter)
    wait_for(lambda: indexed_count(lytter) + topic_count(lytter, lytter.topic_deadletter) >= COUNT, 600, "all hostile records processed", worker)
    assert worker.alive(), worker.log_tail()
    letters = dead_letters(lytter)
    indexed = indexed_count(lytter)
    assert indexed + len(distinct_dead_letters(lytter)) == COUNT == indexed + len(letters)  # no crash here: no repeats
    assert indexed_count(lytter, {"exists": {"field": "sentiment"}}) == indexed, "the model did not score every mention"
    dead_keys = {letter.key for letter in letters}
    for key, value, expect in records:
        k = key.decode()
        if expect == "index":
            assert k not in dead_keys, f"{k} was dead-lettered: {next(l.reason for l in letters if l.key == k)}"
        elif expect == "dead":
            assert k in dead_keys, f"{k} should have been refused: {value[:80]!r}"
    assert all(letter.reason and letter.original() is not None for letter in letters)
    # markup in mentions is data: stored and returned literally, never interpreted
    docs = indexed_docs(lytter)
    scripted = [d for d in docs.values() if d["text"].startswith("<script>")]
    assert scripted and scripted[0]["text"] == "<script>alert('lytter')</script> <b>Lego</b> &amp; <img src=x onerror=alert(1)>"
