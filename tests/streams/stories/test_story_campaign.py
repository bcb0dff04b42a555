"""The coordinated-campaign flag of a story."""

from __future__ import annotations

from streams.stories.campaign import CampaignConfig, CampaignSignal, is_campaign
from streams.stories.index import StoryIndex

POST = "Boikott Rema 1000 nå! De behandler bøndene dårlig, del dette med alle du kjenner i dag"


def run(authors: list[str], step_s: float, texts: list[str] | None = None) -> CampaignSignal:
    index = StoryIndex({}, clock=lambda: 0.0)
    match = None
    for i, author in enumerate(authors):
        text = texts[i] if texts else POST
        match = index.assign(f"m{i}", text, 1_700_000_000.0 + i * step_s, author)
    return match.signal


def test_ten_authors_in_three_minutes_is_a_campaign():
    signal = run([f"user{i}" for i in range(10)], step_s=20.0)  # 9 gaps of 20 s = 180 s
    assert signal.authors == 10 and signal.similarity == 1.0
    assert signal.seconds == 7 * 20.0  # the fastest 8 authors
    assert is_campaign(signal)


def test_ten_authors_in_three_days_is_not():
    signal = run([f"user{i}" for i in range(10)], step_s=3 * 86400 / 9)
    assert signal.authors == 10 and signal.seconds > 600
    assert not is_campaign(signal)


def test_one_author_posting_ten_times_is_not():
    signal = run(["spammer"] * 10, step_s=5.0)
    assert signal.size == 10 and signal.authors == 1 and signal.seconds is None
    assert not is_campaign(signal)


def test_copies_that_are_only_loosely_alike_are_not():
    quotes = [f"{extra} {POST}" for extra in ("Enig!", "Helt riktig, dette må vi gjøre", "Nei, dette er tull.", "Hmm",
                                              "Jeg er ikke sikker, men", "Haha", "Seriøst folkens", "Ja!", "Nja", "Ok")]
    loose = run([f"user{i}" for i in range(10)], step_s=20.0, texts=quotes)
    assert loose.authors == 10 and loose.seconds <= 600
    strict = CampaignConfig(min_similarity=0.95)
    assert loose.similarity < 0.95 and not is_campaign(loose, strict)


def test_thresholds_and_switch():
    signal = CampaignSignal("s-1", authors=8, similarity=0.85, seconds=590.0)
    assert is_campaign(signal)
    assert not is_campaign(signal, CampaignConfig(enabled=False))
    assert not is_campaign(signal, CampaignConfig(min_authors=9))
    assert not is_campaign(signal, CampaignConfig(window_s=500))
    assert not is_campaign(signal, CampaignConfig(min_similarity=0.9))
    assert not is_campaign(None)
