from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from streams.processing.validate import Invalid, parse_mention
from streams.query import compile_query
from streams.schema import Mention
from streams.answer import addressed_brands, mentioned_handles, needs_reply, owned_by
from streams.schema import EnrichedMention
from streams.sources.replay.scenario import BRANDS, CRISIS_KEYWORDS, DEFAULT_START, Scenario, main, replay, write_jsonl
from streams.stories import StoryIndex, is_campaign
from streams.watch.file import load_watch, parse_watch

EXAMPLE_WATCH = Path(__file__).resolve().parents[4] / "deploy" / "watch.example.yaml"


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
        # the brand's Poisson process: chatter and the questions among it (reposts and answers come on top)
        counts = Counter(truth(m)["brand"] for m in scenario.mentions() if truth(m)["role"] in ("baseline", "question"))
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
    assert yaml.safe_load(watch.read_text(encoding="utf-8")) == scenario.watch_file()
    assert [b.name for b in load_watch(watch).brands] == list(BRANDS)  # a watch file the worker can read


# ------------------------------------------------------------------------------ the answer loop


def scenario_watch(sc: Scenario, **kwargs):
    return parse_watch(yaml.safe_dump(sc.watch_file(**kwargs), allow_unicode=True), "scenario watch")


def enriched(mention: Mention, brands: list[str], intent: str | None = None) -> EnrichedMention:
    return EnrichedMention(mention=mention, lang=truth(mention)["lang"], lang_confidence=1.0, brands=brands, intent=intent)


def minutes_between(a: Mention, b: Mention) -> float:
    return (b.published_at - a.published_at).total_seconds() / 60


def test_questions_are_addressed_to_the_brands_own_accounts_in_every_language(scenario, mentions):
    watch = scenario_watch(scenario)
    questions = [m for m in mentions if truth(m)["role"] == "question"]
    assert {truth(m)["lang"] for m in questions} == {"da", "nb", "nn", "sv", "en"}
    assert {truth(m)["intent"] for m in questions} == {"question", "request", "complaint"}
    for question in questions:
        brand = truth(question)["brand"]
        tagged = [watch.owner_of(question.source, h) for h in mentioned_handles(question.source, question.text)]
        assert brand in tagged, (question.source, question.text)  # the @handle in the form the source uses
        item = enriched(question, [brand], truth(question)["intent"])
        assert addressed_brands(item, watch) == [brand]
        assert needs_reply(item, [brand], owned_by(item, watch))
    # the worker's rule baseline (no intent head) must not read a planted question as praise: praise waits for nobody
    from models.intent.rules import rule_intent

    assert not [m.text for m in questions if rule_intent(m.text, truth(m)["lang"]).label == "praise"]
    bluesky = [m for m in questions if m.source == "bluesky" and truth(m)["brand"] == "Fjordbank"]
    assert bluesky and all("@fjordbank.bsky.social" in m.text for m in bluesky)


def test_some_questions_are_answered_by_the_brand_minutes_later_and_some_never(scenario, mentions):
    watch = scenario_watch(scenario)
    by_id = {m.id: m for m in mentions}
    online = DEFAULT_START + timedelta(minutes=scenario.support_online_at_minute)
    answered, unanswered = scenario.question_ids(answered=True), scenario.question_ids(answered=False)
    assert len(answered) >= 10 and len(unanswered) >= 10
    for brand in BRANDS:  # every brand has both, so the demo shows an answered and an overdue item per brand
        assert any(truth(by_id[i])["brand"] == brand for i in answered), brand
        assert any(truth(by_id[i])["brand"] == brand and by_id[i].published_at < online for i in unanswered), brand
    for question_id in answered:
        question = by_id[question_id]
        answer = by_id[truth(question)["answer_id"]]
        brand = truth(question)["brand"]
        assert answer.parent_id == question.id and truth(answer)["role"] == "brand_reply"
        assert answer.source == question.source and answer.kind in ("reply", "comment")
        assert owned_by(enriched(answer, [brand]), watch) == brand  # written by the brand's own account
        assert answer.text.startswith(f"@{question.author.handle}")
        assert question.published_at >= online
        low, high = (3, 10) if truth(question)["incident"] else scenario.reply_delay_minutes
        assert low <= minutes_between(question, answer) <= high
    assert all(by_id[i].engagement.replies == sum(m.parent_id == i for m in mentions) for i in unanswered)
    replies = [m for m in mentions if truth(m)["role"] == "brand_reply"]
    assert {m.parent_id for m in replies} <= set(answered) | {scenario.critic_mention_id()}
    item = enriched(replies[0], [truth(replies[0])["brand"]])
    assert not needs_reply(item, addressed_brands(item, watch), owned_by(item, watch))


def test_the_brand_answers_the_critic_and_some_worried_customers_after_the_burst(scenario, mentions):
    by_id = {m.id: m for m in mentions}
    critic = by_id[scenario.critic_mention_id()]
    statement = by_id[truth(critic)["answer_id"]]
    assert statement.author.handle == "nordlysenergi.bsky.social" and statement.parent_id == critic.id
    assert 4 <= minutes_between(critic, statement) <= 8 and statement.id not in scenario.incident_mention_ids()
    incident_questions = [i for i in scenario.question_ids() if i in scenario.incident_mention_ids()]
    assert incident_questions and all(truth(by_id[i])["brand"] == "Nordlys Energi" for i in incident_questions)


def test_watch_config_owned_accounts_and_reply_targets_agree_with_the_example_watch(scenario):
    example, ours = load_watch(EXAMPLE_WATCH), scenario_watch(scenario)
    for name in BRANDS:
        assert ours.brand(name).owned_accounts == example.brand(name).owned_accounts, name
        for source in ("bluesky", "mastodon", "reddit", "blog"):
            for severity in ("info", "warning", "critical"):
                assert ours.reply_target(name, source, severity, 60.0) == example.reply_target(name, source, severity, 60.0)
    fast = scenario_watch(scenario, reply_target_minutes=4)
    assert {fast.reply_target(name, "bluesky", "critical", 60.0) for name in BRANDS} == {4}


# ------------------------------------------------------------------------------ stories


def assign_stories(mentions: list[Mention]) -> dict[str, str]:
    index = StoryIndex({}, clock=lambda: mentions[-1].published_at.timestamp())
    return {m.id: index.assign(m.id, m.text, m.published_at.timestamp(), m.author.handle).story_id for m in mentions}, index


def test_reposts_join_the_story_of_the_post_they_repeat(mentions):
    stories, _ = assign_stories(mentions)
    reposts = [m for m in mentions if truth(m)["role"] == "repost"]
    assert len(reposts) >= 10 and {m.kind for m in reposts} == {"share", "quote"}
    by_id = {m.id: m for m in mentions}
    joined = 0
    for repost in reposts:
        original = by_id[truth(repost)["story"]]
        assert original.published_at < repost.published_at and truth(original)["brand"] == truth(repost)["brand"]
        joined += stories[repost.id] == stories[original.id]
    # templated chatter makes look-alike stories across brands, so a quote may join a closer one
    assert joined >= 0.8 * len(reposts), (joined, len(reposts))
    assert any(m.text.startswith("RT @") for m in reposts) and any(" via @" in m.text for m in reposts)


def test_copy_paste_burst_is_one_story_that_the_campaign_flag_catches(scenario, mentions):
    copies = [m for m in mentions if m.id in set(scenario.copy_paste_ids())]
    assert len(copies) == scenario.copy_paste_size == 24
    assert len({m.author.handle for m in copies}) == len(copies)  # distinct accounts
    start, end = scenario.incident_window()
    assert all(start <= m.published_at < end for m in copies) and copies[-1].published_at - copies[0].published_at <= timedelta(minutes=2)
    assert len({m.text for m in copies}) > 3  # small edits, not one identical string
    assert all(m.id in scenario.incident_mention_ids() for m in copies)
    stories, index = assign_stories(mentions)
    assert len({stories[m.id] for m in copies}) == 1
    signal = index.campaign_signal(stories[copies[0].id])
    assert signal.authors >= 20 and is_campaign(signal), signal
    # the organic chatter before the incident is not flagged
    before = {stories[m.id] for m in mentions if m.published_at < start}
    assert not any(is_campaign(index.campaign_signal(s)) for s in before)


def test_answer_and_story_arguments_are_checked():
    with pytest.raises(ValueError, match="answer_share"):
        Scenario(answer_share=1.5)
    with pytest.raises(ValueError, match="reply_delay_minutes"):
        Scenario(reply_delay_minutes=(5, 2))
    quiet = Scenario(seed=2, question_share=0, repost_share=0, copy_paste_size=0, baseline_minutes=30, incident_at_minute=16)
    roles = Counter(truth(m)["role"] for m in quiet.mentions())
    assert roles["question"] == roles["repost"] == roles["copy_paste"] == 0
    assert roles["brand_reply"] == 1  # only the statement to the critic


# ------------------------------------------------------------------------------ the demo's timing


def test_demo_timing_raises_unanswered_alerts_without_racing_the_answers():
    """The demo replays the scenario shifted to end now at DEMO_SPEED while reply deadlines run on the
    wall clock (streams/cli/demo.py): answers must beat their deadlines, and the backlog must not."""
    from streams.cli.demo import DEMO_MINUTES, DEMO_REPLY_TARGET_MINUTES, DEMO_SPEED, demo_scenario

    sc = demo_scenario()
    mentions = sc.mentions()
    by_id = {m.id: m for m in mentions}
    replay_start = 0.0  # wall seconds; the scenario's last mention is stamped replay_start
    last = mentions[-1].published_at

    def stamped(m: Mention) -> float:  # the shifted published_at, in wall seconds
        return replay_start - (last - m.published_at).total_seconds()

    def arrives(m: Mention) -> float:
        return replay_start + (m.published_at - mentions[0].published_at).total_seconds() / DEMO_SPEED

    target = 60 * DEMO_REPLY_TARGET_MINUTES
    replay_end = replay_start + 60 * DEMO_MINUTES / DEMO_SPEED
    for question_id in sc.question_ids(answered=True) + [sc.critic_mention_id()]:
        question = by_id[question_id]
        answer = by_id[truth(question)["answer_id"]]
        assert arrives(answer) < stamped(question) + target - 60, question.text  # a minute to spare
    overdue = {truth(by_id[i])["brand"] for i in sc.question_ids(answered=False) if stamped(by_id[i]) + target < replay_end}
    assert len(overdue) >= 3, overdue


def test_demo_watch_keeps_the_example_brands_and_sets_the_demo_reply_target(tmp_path):
    from streams.cli.demo import DEMO_REPLY_TARGET_MINUTES, EXAMPLE_WATCH, demo_scenario, demo_watch
    from streams.settings import Settings

    settings = Settings(services_dir=tmp_path / "services", watch_file=EXAMPLE_WATCH)
    written = demo_watch(settings, demo_scenario()).watch_file
    assert written == tmp_path / "demo-watch.yaml"
    watch, example = load_watch(written), load_watch(EXAMPLE_WATCH)
    assert [b.name for b in watch.brands] == [b.name for b in example.brands]  # the corpus brands stay
    for name in BRANDS:
        assert watch.brand(name).owned_accounts == example.brand(name).owned_accounts
        assert watch.reply_target(name, "bluesky", "critical", 60.0) == DEMO_REPLY_TARGET_MINUTES
    own = tmp_path / "mine.yaml"
    own.write_text(EXAMPLE_WATCH.read_text(encoding="utf-8"), encoding="utf-8")
    assert demo_watch(settings.model_copy(update={"watch_file": own}), demo_scenario()).watch_file == own
