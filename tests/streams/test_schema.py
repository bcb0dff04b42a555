from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from streams.schema import DeadLetter, EnrichedMention, Mention, Sentiment


def _mention(**overrides):
    data = {
        "id": "blog:x",
        "source": "blog",
        "text": "Lego er fedt",
        "published_at": "2026-11-23T08:00:00+01:00",
    }
    data.update(overrides)
    return Mention.model_validate(data)


def test_minimal_mention_round_trips_as_json():
    mention = _mention(author={"handle": "anna", "followers": 120}, engagement={"likes": 3})
    again = Mention.model_validate_json(mention.to_json_bytes())
    assert again == mention
    assert again.published_at.utcoffset().total_seconds() == 3600
    assert again.schema_version == 1


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"published_at": "2026-11-23T08:00:00"}, "published_at"),  # naive time: ambiguous, refused
        ({"text": "   "}, "text"),
        ({"text": "\u200b\u200b\u200d"}, "text"),  # zero-width only
        ({"text": 42}, "text"),
        ({"author": {"handle": "a", "followers": -1}}, "author.followers"),
        ({"engagement": {"likes": "many"}}, "engagement.likes"),
        ({"kind": "tweet"}, "kind"),
        ({"unexpected": 1}, "unexpected"),
        ({"text": "x" * 100_001}, "text"),
    ],
)
def test_invalid_mentions_name_the_field(overrides, field):
    with pytest.raises(ValidationError) as info:
        _mention(**overrides)
    locs = {".".join(str(p) for p in e["loc"]) for e in info.value.errors()}
    assert field in locs


def test_document_has_enrichment_beside_mention_fields():
    enriched = EnrichedMention(
        mention=_mention(title="T", raw={"anything": [1, {"nested": True}]}),
        lang="da",
        lang_confidence=0.91234567,
        sentiment=Sentiment(label="positive", score=0.8, probabilities={"negative": 0.05, "neutral": 0.1, "positive": 0.85}, model_version="v1"),
        brands=["lego"],
        ingested_at=datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc),
    )
    doc = enriched.to_document()
    assert doc["id"] == "blog:x" and doc["lang"] == "da" and doc["brands"] == ["lego"]
    assert doc["lang_confidence"] == 0.9123
    assert doc["sentiment"]["label"] == "positive"
    assert doc["raw"] == {"anything": [1, {"nested": True}]}
    assert "schema_version" not in doc
    assert doc["ingested_at"].startswith("2026-11-23T07:00:00")


def test_dead_letter_keeps_original_bytes_exactly():
    original = b"\xff\xfe not utf-8 {"
    letter = DeadLetter.for_bytes(original, stage="decode", reason="value is not valid UTF-8")
    again = DeadLetter.model_validate_json(letter.to_json_bytes())
    assert again.original() == original
    assert again.reason == "value is not valid UTF-8"


def test_a_dead_letter_is_known_by_the_raw_record_it_stands_for():
    letter = DeadLetter.for_bytes(b"{", stage="decode", reason="x", topic="mentions.raw", partition=2, offset=1234, key="blog:x")
    assert letter.source_key() == "mentions.raw/2/1234"
    # the same record dead-lettered again (a replay after a crash): another letter, the same source key
    again = DeadLetter.for_bytes(b"{", stage="decode", reason="x", topic="mentions.raw", partition=2, offset=1234, key="blog:x")
    assert again.failed_at >= letter.failed_at and again.source_key() == letter.source_key()
    assert DeadLetter.model_validate_json(letter.to_json_bytes()).source_key() == "mentions.raw/2/1234"
    # offset 0 and partition 0 are coordinates too
    assert DeadLetter.for_bytes(b"", stage="decode", reason="x", topic="t", partition=0, offset=0).source_key() == "t/0/0"


def test_a_dead_letter_without_coordinates_falls_back_to_the_record_key_then_the_mention_id():
    assert DeadLetter.for_bytes(b"", stage="decode", reason="x", key="k", mention_id="m").source_key() == "k"
    assert DeadLetter.for_bytes(b"", stage="index", reason="x", mention_id="m", topic="t").source_key() == "m"
    assert DeadLetter.for_bytes(b"", stage="decode", reason="x").source_key() is None
