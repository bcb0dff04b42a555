from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml

from streams.processing.validate import Invalid, parse_mention
from streams.query import compile_query
from streams.schema import Mention
from streams.sources.replay.scenario import BRANDS, CRISIS_KEYWORDS, DEFAULT_START, Scenario, main, replay, write_jsonl


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario(seed=7)


@pytest.fixture(scope="module")
def mentions(scenario) -> list[Mention]:
    return scenario.mentions()


def truth(mention: Mention) -> dict:
    return mention.raw["scenario"]


def test_deterministic_for_a_seed():
    a = [m.model_dump() for m in Scenario(seed=3).mentions()]
    b = [m.model_dump() for m in Scenario(seed=3).mentions()]
    assert a == b
    assert a != [m.model_dump() for m in Scenario(seed=4).mentions()]


def test_sorted_timezone_aware_and_inside_the_scenario(scenario, mentions):
    times = [m.published_at for m in mentions]
    assert times == sorted(times)
    assert all(t.tzinfo is not None and t.utcoffset() is not None for t in times)
    end = DEFAULT_START + timedelta(minutes=scenario.baseline_minutes)
    assert DEFAULT_START <= times[0] and times[-1] < end
    assert len({m.id for m in mentions}) == len(mentions)


def test_every_mention_validates_against_the_schema(mentions):
    for mention in mentions:
        wire = mention.to_json_bytes()
        assert Mention.model_validate_json(wire) == mention
        parsed = parse_mention(wire)  # what the worker does with it
        assert not isinstance(parsed, Invalid), parsed


def test_replies_point_to_earlier_posts_and_reply_counts_add_up(mentions):
    by_id = {m.id: m for m in mentions}
    replies = [m for m in mentions if m.parent_id]
    assert 0.15 * len(mentions) <= len(replies) <= 0.45 * len(mentions)
    for reply in replies:
        parent = by_id[reply.parent_id]
        assert parent.published_at < reply.published_at
        assert parent.kind == "post" and reply.kind in ("reply", "comment")
        assert parent.source == reply.source
        assert truth(parent)["brand"] == truth(reply)["brand"]
    children = Counter(m.parent_id for m in replies)
    assert all(m.engagement.replies == children.get(m.id, 0) for m in mentions)


def test_incident_burst_is_where_it_says(scenario, mentions):
    start, end = scenario.incident_window()
    assert start == DEFAULT_START + timedelta(minutes=40) and end - start == timedelta(minutes=2)
    ids = scenario.incident_mention_ids()
    assert len(ids) == scenario.burst_size == 60
    incident = [m for m in mentions if m.id in ids]
    assert len(incident) == 60
    assert all(start <= m.published_at < end for m in incident)
    assert all(truth(m)["incident"] and truth(m)["tone"] == "negative" for m in incident)
    assert not any(truth(m)["incident"] for m in mentions if m.id not in ids)
    assert len({truth(m)["lang"] for m in incident}) >= 3

    brand_query = compile_query(BRANDS["Nordlys Energi"].query)
    crisis = compile_query(scenario.watch_config()["crisis_query"])
    assert all(brand_query.matches({"text": m.text}) for m in incident)
    assert sum(crisis.matches({"text": m.text}) for m in incident) >= 0.75 * len(incident)

    # the burst stands out: the brand's volume in the window is many times its usual rate
    in_window = [m for m in mentions if start <= m.published_at < end and truth(m)["brand"] == "Nordlys Energi"]
    usual = scenario.brand_rates()["Nordlys Energi"] * 2  # mentions in 2 minutes
    assert len(in_window) >= 60 and len(in_window) > 8 * usual


def test_influential_critic_and_the_replies_to_it(scenario, mentions):
    critic = scenario.critic()
    assert critic.handle == "forbrukerkrigeren" and critic.lang == "nb"
    by_id = {m.id: m for m in mentions}
    post = by_id[scenario.critic_mention_id()]
    assert post.id in scenario.incident_mention_ids()
    assert post.author.handle == "forbrukerkrigeren"
    assert 450_000 <= post.author.followers <= 550_000
    others = max(m.author.followers for m in mentions if m.id != post.id)
    assert post.author.followers > 10 * others
    assert post.kind == "post" and truth(post)["tone"] == "negative"
    assert compile_query("skandal* AND (boikott* OR tilbakekal*)").matches({"text": post.text})

    replies = [m for m in mentions if m.parent_id == post.id]
    assert len(replies) >= 0.3 * scenario.burst_size
    assert all(m.published_at > post.published_at and m.text.startswith("@forbrukerkrigeren") for m in replies)
    assert post.engagement.replies == len(replies) and post.engagement.likes > 1000


def test_baseline_rates_within_bounds():
    for seed in range(1, 6):
        scenario = Scenario(seed=seed, incident_at_minute=None, baseline_minutes=60)
        counts = Counter(truth(m)["brand"] for m in scenario.mentions() if truth(m)["role"] == "baseline")
        assert set(counts) == set(BRANDS)
        for brand, rate in scenario.brand_rates().items():
            assert 2.0 <= rate <= 5.0
            per_minute = counts[brand] / 60
            assert 2.0 * 0.7 <= per_minute <= 5.0 * 1.3, (seed, brand, per_minute)
            assert abs(per_minute - rate) <= 4 * (rate / 60) ** 0.5  # Poisson: within 4 sigma


def test_tones_languages_and_authors_look_realistic(mentions):
    baseline = [m for m in mentions if truth(m)["role"] == "baseline"]
    tones = Counter(truth(m)["tone"] for m in baseline)
    assert 0.45 <= tones["neutral"] / len(baseline) <= 0.65
    assert 0.15 <= tones["positive"] / len(baseline) <= 0.35
    assert 0.12 <= tones["negative"] / len(baseline) <= 0.30
    assert set(Counter(truth(m)["lang"] for m in mentions)) == {"da", "nb", "nn", "sv", "en"}
    by_brand_lang = Counter((truth(m)["brand"], truth(m)["lang"]) for m in baseline)
    assert max(("da", "nb", "nn", "sv", "en"), key=lambda lang: by_brand_lang[("Hygge Kaffe", lang)]) == "da"
    assert max(("da", "nb", "nn", "sv", "en"), key=lambda lang: by_brand_lang[("Fjordbank", lang)]) == "nb"
    # Pareto followers: most accounts small, a long tail; recurring handles
    followers = sorted(m.author.followers for m in baseline)
    assert followers[len(followers) // 2] < 200 and followers[-1] > 2_000
    handles = Counter(m.author.handle for m in mentions)
    assert handles.most_common(1)[0][1] >= 10
    assert len({len(m.text) for m in mentions}) > 30  # varied texts, not one template
    assert len({m.text for m in baseline}) > 0.5 * len(baseline)


def test_watch_config_queries_find_their_brand_and_only_it(scenario, mentions):
    config = scenario.watch_config()
    assert [b["name"] for b in config["brands"]] == list(BRANDS)
    queries = {}
    for brand in config["brands"]:
        assert brand["query"].strip()
        queries[brand["name"]] = compile_query(brand["query"])
    for lang in ("da", "nb", "nn", "sv", "en"):
        assert config["crisis_keywords"][lang]
        for keyword in config["crisis_keywords"][lang]:
            compile_query(keyword)
    assert config["crisis_keywords"] == CRISIS_KEYWORDS
    for mention in mentions:
        expected = truth(mention)["brand"]
        matched = [name for name, query in queries.items() if query.matches({"text": mention.text})]
        assert matched == ([expected] if expected else []), (mention.text, matched)
    assert yaml.safe_load(yaml.safe_dump(config, allow_unicode=True)) == config


def test_no_incident_and_argument_checks():
    quiet = Scenario(seed=1, incident_at_minute=None, baseline_minutes=20)
    assert quiet.incident_window() is None and quiet.incident_mention_ids() == frozenset() and quiet.critic() is None
    assert not any(truth(m)["incident"] for m in quiet.mentions())
    with pytest.raises(ValueError, match="timezone-aware"):
        Scenario(start=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="incident_brand"):
        Scenario(incident_brand="Acme")
    with pytest.raises(ValueError, match="incident_at_minute"):
        Scenario(baseline_minutes=30, incident_at_minute=29)


def test_custom_brands_start_and_burst():
    oslo = datetime(2025, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/Oslo"))
    scenario = Scenario(
        seed=11, brands=["Hygge Kaffe", "Skandi Air", "Fjeldsko"], baseline_minutes=15, incident_brand="Hygge Kaffe",
        incident_at_minute=5, burst_size=40, start=oslo,
    )
    mentions = scenario.mentions()
    assert all(m.published_at >= oslo for m in mentions)
    assert len(scenario.incident_mention_ids()) == 40
    assert scenario.critic().handle == "forbrugsvagten"  # Hygge Kaffe is mostly talked about in Danish
    custom = next(b for b in scenario.watch_config()["brands"] if b["name"] == "Fjeldsko")
    query = compile_query(custom["query"])
    fjeldsko = [m for m in mentions if truth(m)["brand"] == "Fjeldsko"]
    assert fjeldsko and all(query.matches({"text": m.text}) for m in fjeldsko)


def _spaced(n: int, seconds: float) -> list[Mention]:
    return [
        Mention(id=f"t{i}", source="test", text=f"mention {i}", published_at=DEFAULT_START + timedelta(seconds=i * seconds))
        for i in range(n)
    ]


async def test_replay_keeps_rhythm_at_speed():
    mentions = _spaced(5, 1.0)  # one a second
    seen: list[tuple[str, float]] = []
    began = time.monotonic()

    async def publish(m: Mention) -> None:
        seen.append((m.id, time.monotonic() - began))

    count = await replay(list(reversed(mentions)), publish, speed=10)  # order restored by published_at
    assert count == 5
    assert [mid for mid, _ in seen] == ["t0", "t1", "t2", "t3", "t4"]
    for i, (_, at) in enumerate(seen):
        assert i * 0.1 - 0.01 <= at <= i * 0.1 + 0.15, seen
    assert mentions[0].published_at == DEFAULT_START  # the originals are untouched


async def test_replay_as_fast_as_possible_with_sync_publish(mentions):
    seen: list[Mention] = []
    started = time.monotonic()
    assert await replay(mentions, seen.append, speed=0) == len(mentions)
    assert time.monotonic() - started < 2.0
    assert [m.id for m in seen] == [m.id for m in mentions]
    assert seen[0] is mentions[0]  # without restamp the mentions go out as they are


async def test_replay_restamps_relative_to_now():
    now = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
    mentions = _spaced(4, 2.0)
    live: list[Mention] = []
    await replay(mentions, live.append, speed=20, restamp=True, now=now)
    assert [m.published_at for m in live] == [now + timedelta(seconds=i * 0.1) for i in range(4)]
    backfill: list[Mention] = []
    await replay(mentions, backfill.append, speed=0, restamp=True, now=now)
    assert backfill[-1].published_at == now
    assert backfill[0].published_at == now - timedelta(seconds=6)
    assert mentions[0].published_at == DEFAULT_START
    with pytest.raises(ValueError):
        await replay(mentions, live.append, speed=-1)


async def test_replay_into_an_asyncio_queue_is_cancellable():
    queue: asyncio.Queue[Mention] = asyncio.Queue()
    task = asyncio.create_task(replay(_spaced(100, 60.0), queue.put, speed=1))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert queue.qsize() == 1


def test_write_jsonl_and_cli(tmp_path, scenario, mentions):
    path = tmp_path / "scenario.jsonl"
    assert write_jsonl(mentions, path) == len(mentions)
    lines = path.read_bytes().splitlines()
    assert [Mention.model_validate_json(line) for line in lines] == mentions
    assert json.loads(lines[0])["id"] == mentions[0].id

    out, watch = tmp_path / "cli.jsonl", tmp_path / "watch.yaml"
    assert main([str(out), "--seed", "7", "--watch", str(watch)]) == 0
    assert out.read_bytes() == path.read_bytes()
    assert yaml.safe_load(watch.read_text(encoding="utf-8")) == scenario.watch_config()
