import json
from collections.abc import MutableMapping
from datetime import datetime, timedelta, timezone

import pytest

from streams.schema import Author, BrandSentiment, EnrichedMention, Mention, Sentiment
from streams.watch import parse_watch

WATCH_YAML = """
brands:
- name: Nordlys
  query: nordlys*
  owned_accounts:
    bluesky: [nordlys.bsky.social, "did:plc:nordlys"]
    mastodon: ["@nordlys@mastodon.social"]
    reddit: [NordlysEnergi]
    blog: [nordlys]
  reply: {target_minutes: 60, by_source: {bluesky: 30}, by_severity: {critical: 15}}
- name: Fjordbank
  query: fjordbank*
  owned_accounts: {bluesky: [fjordbank.bsky.social, "did:plc:fjordbank"], mastodon: ["fjordbank@bank.social"]}
- name: Quiet
  query: quiet
"""

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


class JsonStore(MutableMapping):
    """A dict that keeps values as JSON text, as a changelog-backed table would: a value that is not
    JSON-serialisable fails here, and mutating a value read from it changes nothing until written back."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def __getitem__(self, key):
        return json.loads(self.data[key])

    def __setitem__(self, key, value):
        self.data[key] = json.dumps(value, allow_nan=False)

    def __delitem__(self, key):
        del self.data[key]

    def __iter__(self):
        return iter(list(self.data))

    def __len__(self):
        return len(self.data)


@pytest.fixture
def watch():
    return parse_watch(WATCH_YAML, "test-watch.yaml")


@pytest.fixture
def store():
    return JsonStore()


def make_mention(
    mention_id,
    text="hej",
    *,
    source="bluesky",
    author="someone.bsky.social",
    minutes=0.0,
    parent=None,
    kind=None,
    intent=None,
    brands=(),
    influence=None,
    reach=None,
    sentiment=None,
    brand_sentiment=None,
    deleted=False,
):
    """An enriched mention published ``minutes`` after T0; ``sentiment`` a label."""
    mention = Mention(
        id=mention_id,
        source=source,
        text=text,
        author=Author(handle=author) if author else None,
        published_at=T0 + timedelta(minutes=minutes),
        parent_id=parent,
        kind=kind or ("reply" if parent else "post"),
    )
    scores = {"negative": -0.8, "neutral": 0.0, "positive": 0.8}
    enriched = EnrichedMention(
        mention=mention,
        lang="da",
        lang_confidence=1.0,
        brands=list(brands),
        intent=intent,
        influence=influence,
        reach=reach,
        sentiment=Sentiment(label=sentiment, score=scores[sentiment], probabilities={}, model_version="t") if sentiment else None,
        brand_sentiment=[BrandSentiment(brand=b, label=l, score=scores[l]) for b, l in (brand_sentiment or {}).items()],
    )
    if deleted:
        enriched = enriched.as_tombstone(T0 + timedelta(minutes=minutes + 1))
    return enriched


@pytest.fixture
def mention():
    return make_mention


class Clock:
    """Wall clock for the tracker, settable by the test (epoch seconds)."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()
