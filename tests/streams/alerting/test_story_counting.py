"""Stories in the alerting: story facts on MentionInfo, distinct stories per window, the story EWMA,
``volume_spike: {count: stories}`` and the campaign flag in evidence and titles."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from streams.alerting.brands import BrandAlerting
from streams.alerting.config import AlertConfig
from streams.alerting.incidents import IncidentBook
from streams.alerting.mentions import MentionInfo
from streams.alerting.rules import CAMPAIGN_NOTE, influencer_rule, negative_surge_rule, volume_spike_rule
from streams.alerting.windows import Baseline, WindowCounts
from streams.schema import Author, EnrichedMention, Mention
from streams.stories.index import StoryIndex
from tests.streams.alerting.traffic import CONFIG, T0, baseline_with, info

STORIES = AlertConfig.model_validate({"volume_spike": {"count": "stories"}})


def story_info(i: int, story: str, **facts) -> MentionInfo:
    return replace(info(i), story_id=story, **facts)


def campaign_info(i: int, story: str = "s-camp", authors: int = 10, seconds: float = 120.0, similarity: float = 0.95, **kw) -> MentionInfo:
    return replace(info(i, **kw), story_id=story, story_size=authors, story_authors=authors, story_seconds=seconds,
                   story_similarity=similarity, story_first_seen=T0)


def story_baseline(stories_per_minute: list[int]) -> Baseline:
    """A baseline whose minutes had these many mentions, each its own story."""
    b = Baseline.from_config(CONFIG)
    for m, n in enumerate(stories_per_minute):
        b = b.absorb(WindowCounts(start=T0 + 60 * m, volume=n, neutral=n, stories=n))
    return b


# --------------------------------------------------------------------------------------------------
# MentionInfo


def test_from_enriched_reads_story_id_and_the_story_facts():
    mention = Mention(id="x1", source="push", text="Boikott Rema 1000 nå, del dette", author=Author(handle="kari"),
                      published_at=datetime.fromtimestamp(T0, tz=timezone.utc))
    enriched = EnrichedMention(mention=mention, lang="nb", lang_confidence=0.9, brands=["Rema 1000"], story_id="s-abc")
    plain = MentionInfo.from_enriched(enriched)
    assert plain.story_id == "s-abc" and plain.story_authors is None and plain.campaign_signal() is None
    match = StoryIndex({}, clock=lambda: 0.0).assign("x1", mention.text, T0, "kari")
    with_facts = MentionInfo.from_enriched(enriched, story=match)
    assert (with_facts.story_size, with_facts.story_authors, with_facts.story_similarity) == (1, 1, 1.0)
    assert with_facts.story_first_seen == T0 and with_facts.campaign_signal().story_id == "s-abc"


def test_from_dict_accepts_stored_dicts_without_story_fields_and_round_trips_with_them():
    old = {k: v for k, v in info(3).to_dict().items() if not k.startswith("story_")}
    assert MentionInfo.from_dict(old).story_id is None
    new = campaign_info(4)
    assert MentionInfo.from_dict(json.loads(json.dumps(new.to_dict()))) == new


# --------------------------------------------------------------------------------------------------
# Windows and baseline


def test_window_counts_distinct_stories_and_bounds_the_ids():
    w = WindowCounts.open(T0)
    for i in range(10):
        w = w.add(story_info(i, f"s-{i % 3}"), now=T0 + i)
    w = w.add(info(99), now=T0 + 20)  # no story: a story of its own
    assert (w.volume, w.story_count, len(w.story_ids)) == (11, 4, 4)
    bounded = WindowCounts.open(T0)
    for i in range(20):
        bounded = bounded.add(story_info(i, f"s-{i % 10}"), now=T0 + i, max_stories=5)
    # 5 ids kept; mentions of the other stories count as new each time: the count errs towards mentions
    assert len(bounded.story_ids) == 5 and bounded.story_count == 15
    assert WindowCounts.from_dict(json.loads(json.dumps(w.to_dict()))) == w


def test_window_stored_before_stories_counts_each_mention_as_a_story():
    old = {k: v for k, v in WindowCounts(start=T0, volume=7, neutral=7).to_dict().items() if k not in ("stories", "story_ids", "campaign")}
    w = WindowCounts.from_dict(old)
    assert w.stories is None and w.story_count == 7
    assert w.add(story_info(1, "s-1")).story_count == 8


def test_baseline_keeps_an_ewma_of_stories_per_minute():
    b = Baseline.from_config(CONFIG)
    for m in range(100):
        b = b.absorb(WindowCounts(start=T0 + 60 * m, volume=12, neutral=12, stories=3))
    assert b.volume_per_minute == pytest.approx(12.0) and b.stories_per_minute == pytest.approx(3.0)
    quiet = b.absorb(WindowCounts(start=T0 + 60 * 160, volume=0, stories=0))  # 60 quiet minutes in between
    assert quiet.stories_per_minute == pytest.approx(quiet.volume_per_minute / 4)
    assert quiet.story_windows == quiet.windows == 161
    # a baseline stored before stories: the story EWMA starts with the next window
    old = Baseline.from_dict({k: v for k, v in b.to_dict().items() if not k.startswith("stor")})
    assert old.story_windows == 0 and old.stories_per_minute == 0.0
    assert old.absorb(WindowCounts(start=T0 + 60 * 100, volume=5, stories=2)).stories_per_minute == pytest.approx(2.0)


# --------------------------------------------------------------------------------------------------
# Rules


def test_count_setting_is_validated():
    assert AlertConfig().volume_spike.count == "mentions" and STORIES.volume_spike.count == "stories"
    with pytest.raises(ValidationError, match="volume_spike.count"):
        AlertConfig.model_validate({"volume_spike": {"count": "posts"}})


def _burst(n: int, stories: int) -> WindowCounts:
    w = WindowCounts.open(T0 + 3600)
    for i in range(n):
        w = w.add(story_info(i, f"s-{i % stories}"), now=T0 + 3600 + i * 0.5)
    return w


def test_a_repost_wave_of_one_story_spikes_mentions_but_not_stories():
    baseline = story_baseline([3] * 60)
    wave = _burst(40, stories=1)
    by_mentions = volume_spike_rule("Lego", wave, baseline, CONFIG, T0 + 3620)
    assert by_mentions is not None and "40 mentions" in by_mentions.title
    assert by_mentions.evidence["counts"]["mentions"] == 40 and by_mentions.evidence["counts"]["stories"] == 1
    assert volume_spike_rule("Lego", wave, baseline, STORIES, T0 + 3620) is None
    many = volume_spike_rule("Lego", _burst(40, stories=30), baseline, STORIES, T0 + 3620)
    assert many is not None and "30 stories" in many.title
    assert many.evidence["counts"]["counted"] == "stories" and many.evidence["counts"]["observed"] == 30


def test_story_counting_waits_for_the_story_baseline_warm_up():
    volume_only = baseline_with([3] * 60)  # windows without story counts: story_weight still grows
    assert volume_spike_rule("Lego", _burst(40, stories=40), volume_only, STORIES, T0 + 3620) is not None
    young = story_baseline([3] * 10)
    assert volume_spike_rule("Lego", _burst(40, stories=40), young, STORIES, T0 + 3620) is None


def _campaign_window(authors: int, seconds: float, similarity: float = 0.95) -> WindowCounts:
    w = WindowCounts.open(T0 + 3600)
    for i in range(40):
        m = campaign_info(i, authors=authors, seconds=seconds, similarity=similarity) if i < 10 else story_info(i, f"s-{i}")
        w = w.add(m, now=T0 + 3600 + i, campaign=CONFIG.campaign)
    return w


def test_a_campaign_story_in_the_window_is_named_in_evidence_and_title():
    baseline = story_baseline([3] * 60)
    c = volume_spike_rule("Rema 1000", _campaign_window(authors=10, seconds=120.0), baseline, CONFIG, T0 + 3640)
    assert c is not None and c.title.endswith(CAMPAIGN_NOTE)
    campaign = c.evidence["campaign"]
    assert campaign["story_id"] == "s-camp" and campaign["authors"] == 10 and campaign["seconds"] == 120.0
    assert campaign["similarity"] == 0.95 and campaign["example"] == "Lego er fint"
    slow = volume_spike_rule("Rema 1000", _campaign_window(authors=10, seconds=3 * 86400.0), baseline, CONFIG, T0 + 3640)
    assert slow is not None and "campaign" not in slow.evidence and CAMPAIGN_NOTE not in slow.title
    loose = _campaign_window(authors=10, seconds=120.0, similarity=0.5)
    assert loose.campaign is None


def test_negative_surge_and_per_mention_rules_show_stories_and_campaigns():
    b = Baseline.from_config(CONFIG)
    for m in range(60):
        b = b.absorb(WindowCounts(start=T0 + 60 * m, volume=10, negative=1, neutral=9, stories=10))
    w = WindowCounts.open(T0 + 3600)
    for i in range(12):
        w = w.add(campaign_info(i, label="negative"), now=T0 + 3600 + i, campaign=CONFIG.campaign)
    surge = negative_surge_rule("Lego", w, b, CONFIG, T0 + 3620)
    assert surge is not None and surge.evidence["counts"]["stories"] == 1 and surge.evidence["counts"]["mentions"] == 12
    assert surge.evidence["campaign"]["story_id"] == "s-camp" and surge.title.endswith(CAMPAIGN_NOTE)
    critic = influencer_rule("Lego", campaign_info(1, label="negative", influence=95.0), CONFIG)
    assert critic.evidence["story_id"] == "s-camp" and critic.title.endswith(CAMPAIGN_NOTE)
    lone = influencer_rule("Lego", campaign_info(2, label="negative", influence=95.0, authors=1, seconds=None), CONFIG)
    assert "campaign" not in lone.evidence and CAMPAIGN_NOTE not in lone.title


def test_an_incident_that_turns_into_a_campaign_is_updated_at_once_and_keeps_the_note():
    baseline = story_baseline([3] * 60)
    book = IncidentBook(CONFIG.incidents)
    plain = volume_spike_rule("Lego", _burst(40, stories=30), baseline, CONFIG, T0 + 3620)
    assert book.consider(plain, T0 + 3620).kind == "open"
    flagged = volume_spike_rule("Lego", _campaign_window(authors=10, seconds=60.0), baseline, CONFIG, T0 + 3630)
    action = book.consider(flagged, T0 + 3630)  # 10 s later: inside the update interval, sent anyway
    assert action is not None and action.kind == "update" and action.alert.title.endswith(CAMPAIGN_NOTE)
    book.consider(plain, T0 + 3640)
    alert = book.get("Lego", "volume_spike")
    assert alert.evidence["campaign"]["story_id"] == "s-camp" and alert.title.endswith(CAMPAIGN_NOTE)


def test_brand_alerting_counts_stories_and_flags_the_campaign_end_to_end():
    states: dict = {}
    alerting = BrandAlerting(states, lambda: STORIES)
    index = StoryIndex({}, clock=lambda: 0.0)
    n = 0
    for minute in range(40):  # a baseline of 3 different posts a minute
        for j in range(3):
            text = _distinct_post(n)
            alerting.on_mention("Rema", _from_index(index, n, text, T0 + minute * 60 + j * 15, f"user{n}"))
            n += 1
    start = T0 + 40 * 60
    actions = []
    for i in range(12):  # within one minute 12 accounts post the same call, and 30 people their own posts
        actions += alerting.on_mention("Rema", _from_index(index, n, "Boikott Rema 1000 nå! Del dette med alle du kjenner i dag", start + i * 4, f"bot{i}"))
        n += 1
    for i in range(30):
        actions += alerting.on_mention("Rema", _from_index(index, n, _distinct_post(n), start + 1 + i * 1.5, f"person{i}"))
        n += 1
    assert [a.kind for a in actions if a.alert.rule == "volume_spike"][:1] == ["open"]
    alert = IncidentBook.from_dict(states["Rema"]["incidents"]).get("Rema", "volume_spike")  # the latest evidence
    assert alert.title.endswith(CAMPAIGN_NOTE)
    counts = alert.evidence["counts"]
    assert counts["mentions"] == 42 and counts["stories"] == 31 and counts["counted"] == "stories"
    assert alert.evidence["campaign"]["authors"] == 12
    summary = alerting.window_summary("Rema")
    assert summary["stories"] == 31 and summary["baseline_stories_per_minute"] == pytest.approx(3.0)


WORDS = "rema butikk pris melk brød kø kasse tilbud ansatte frukt kaffe hylle pose app kort helg morgen kveld vare ost".split()


def _distinct_post(n: int) -> str:
    """A post of its own: 8 words picked by ``n`` (no two share three words in a row)."""
    rng = random.Random(n)
    return " ".join(rng.sample(WORDS, 8)) + f" {n}"


def _from_index(index: StoryIndex, n: int, text: str, at: float, author: str) -> MentionInfo:
    match = index.assign(f"m{n}", text, at, author)
    return MentionInfo(id=f"m{n}", text=text, author=author, published_at=at, sentiment_label="neutral", sentiment_score=0.0,
                       influence=10.0, story_id=match.story_id, story_size=match.size, story_authors=match.authors,
                       story_similarity=match.similarity if match.signal is None else match.signal.similarity,
                       story_seconds=match.signal.seconds, story_first_seen=match.signal.first_seen)
