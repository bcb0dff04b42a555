"""Mentions as the rules see them: MentionInfo from an enriched mention, freshness, evidence snippets."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from streams.alerting.mentions import MentionInfo, TopMention, is_fresh
from streams.schema import Author, BrandSentiment, EnrichedMention, Mention, Sentiment
from tests.streams.alerting.traffic import CONFIG, T0, info


def test_top_mention_snippet_is_bounded():
    t = TopMention.of(MentionInfo(id="a", title="Overskrift", text="ord " * 500, impact=-1.0))
    assert len(t.text) <= 280 and t.text.startswith("Overskrift — ord ord") and t.text.endswith("…")


def test_mention_info_round_trips():
    m = info(9, label="negative", published_at=T0)
    data = json.loads(json.dumps(m.to_dict()))
    assert MentionInfo.from_dict(data) == m


def test_mention_info_from_enriched_and_freshness():
    m = Mention(
        id="x1",
        source="mastodon",
        url="https://mastodon.social/@a/1",
        text="Boykot Lego",
        author=Author(handle="a"),
        published_at=datetime.fromtimestamp(T0, tz=timezone.utc),
    )
    em = EnrichedMention(
        mention=m,
        lang="da",
        lang_confidence=0.9,
        sentiment=Sentiment(label="negative", score=-0.7, probabilities={}, model_version="t"),
        brands=["Lego"],
        influence=80.0,
        reach=1000.0,
        impact=-700.0,
    )
    mi = MentionInfo.from_enriched(em)
    assert (mi.id, mi.author, mi.lang, mi.sentiment_label, mi.impact, mi.published_at) == ("x1", "a", "da", "negative", -700.0, T0)
    assert is_fresh(mi, T0 + 60, CONFIG) and not is_fresh(mi, T0 + 7200, CONFIG)
    assert is_fresh(MentionInfo(id="n"), T0, CONFIG)


def test_each_brand_reads_its_own_sentiment():
    m = Mention(id="x2", source="push", text="Fjordbank er mye bedre enn Nordlys Energi", published_at=datetime.fromtimestamp(T0, tz=timezone.utc))
    em = EnrichedMention(
        mention=m, lang="nb", lang_confidence=0.9,
        sentiment=Sentiment(label="positive", score=0.8, probabilities={}, model_version="t"),
        brands=["Fjordbank", "Nordlys Energi"],
        brand_sentiment=[BrandSentiment(brand="Fjordbank", label="positive", score=0.8), BrandSentiment(brand="Nordlys Energi", label="negative", score=-0.8)],
    )
    assert MentionInfo.from_enriched(em, "Nordlys Energi").is_negative()
    assert not MentionInfo.from_enriched(em, "Fjordbank").is_negative()
    assert MentionInfo.from_enriched(em).sentiment_label == "positive"  # no brand: the mention's own
    assert MentionInfo.from_enriched(em, "Ukjent").sentiment_label == "positive"
