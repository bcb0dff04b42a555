"""The influence stage with stories and the answer loop, over in-memory sinks; the wall-clock jobs."""

import json
from datetime import datetime, timedelta, timezone

from streams.alerting.brands import BrandAlerting
from streams.alerting.config import AlertConfig
from streams.alerting.mentions import MentionInfo
from streams.processing.pipeline import RawRecord
from streams.schema import EnrichedMention, Mention
from streams.stories.index import StoryIndex
from streams.watch import parse_watch
from streams.worker.alerts import AlertStage, QuietIncidents
from streams.worker.answers import AnswerLoop
from streams.worker.consume import BytesKeyedView
from streams.worker.influence import InfluenceScorer, InfluenceStage
from streams.worker.stories import StoryAssigner
from tests.streams.worker.fakes import IndexedWithUpdates, Log, RecordingSink

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)
WATCH = parse_watch(
    """
brands:
- name: Fjordbank
  query: fjordbank
  owned_accounts: {mastodon: ["fjordbank@bank.social"]}
  reply: {target_minutes: 10}
""",
    "watch.yaml",
)


def mention(i, text, *, handle="kunde", minutes=0, parent=None, intent="question"):
    m = Mention(
        id=f"m{i}", source="mastodon", text=text, published_at=T0 + timedelta(minutes=minutes),
        author={"handle": f"{handle}@x.social" if handle != "fjordbank" else "fjordbank@bank.social"},
        parent_id=parent, kind="reply" if parent else "post",
    )
    e = EnrichedMention(mention=m, lang="da", lang_confidence=1.0, brands=["Fjordbank"] if "fjordbank" in text.lower() else [])
    e.intent = intent
    return e


def records(items):
    return [RawRecord(key=e.mention.id.encode(), value=e.model_dump_json().encode(), topic="mentions.enriched", partition=0, offset=i) for i, e in enumerate(items)]


def build(now):
    log, clock = Log(), lambda: now[0]
    index, alerts = IndexedWithUpdates(log), RecordingSink(log, "alerts")
    stories = StoryAssigner({}, lambda store: StoryIndex(store, clock=clock))
    answers = AnswerLoop({}, lambda: WATCH, index=index, alerts=alerts, clock=clock, default_target_minutes=60)
    stage = InfluenceStage(lambda: InfluenceScorer({}), index=index, deadletters=RecordingSink(log, "dead"),
                           by_brand=RecordingSink(log, "by_brand"), clock=clock, stories=stories, answers=answers)
    return stage, answers, index, alerts, log


async def test_copies_share_a_story_and_the_rules_get_the_story_facts():
    now = [T0.timestamp()]
    stage, _, index, _, _ = build(now)
    text = "Fjordbank har lukket min konto uden varsel og svarer ikke på mails, boykot dem nu"
    items = [mention(i, text + (" !!" if i % 2 else ""), handle=f"k{i}", intent="complaint") for i in range(4)]
    items.append(mention(9, "Fjordbank sponsorerer håndboldlandsholdet igen i år, fint initiativ", handle="k9", intent="praise"))
    await stage.process(records(items))
    docs = {d["id"]: d for d in index.documents}
    assert len({docs[f"m{i}"]["story_id"] for i in range(4)}) == 1
    assert docs["m9"]["story_id"] != docs["m0"]["story_id"]
    info = MentionInfo.from_dict(json.loads(stage.by_brand.sent[3][1]))
    assert info.story_id == docs["m3"]["story_id"] and info.story_size == 4 and info.story_authors == 4


async def test_a_reply_in_a_later_batch_updates_the_question_after_the_write():
    now = [T0.timestamp()]
    stage, _, index, _, log = build(now)
    await stage.process(records([mention(1, "@fjordbank hvornår åbner filialen?")]))
    question = index.documents[0]
    assert question["needs_reply"] is True and question["addressed_to"] == ["Fjordbank"]
    await stage.process(records([mention(2, "Hej, vi åbner mandag.", handle="fjordbank", minutes=4, parent="m1", intent="other")]))
    assert log.events[-3:] == [("index", 1), ("update", 1), ("by_brand", 0)]  # the reply written, then the question updated
    assert index.updates == [{"id": "m1", "answered_at": (T0 + timedelta(minutes=4)).isoformat(), "answered_by": "fjordbank@bank.social", "response_time_s": 240.0, "answered_within_target": True}]
    assert index.documents[1]["owned_by"] == "Fjordbank"


async def test_the_wall_clock_tick_raises_the_unanswered_alert_after_the_target_and_the_reply_closes_it():
    now = [T0.timestamp()]
    stage, answers, _, alerts, _ = build(now)
    await stage.process(records([mention(1, "@fjordbank I har trukket mig to gange, hvorfor?", intent="question")]))
    now[0] = T0.timestamp() + 9 * 60
    assert await answers.tick(now[0]) == []  # before the 10-minute target
    now[0] = T0.timestamp() + 10 * 60 + 1
    opened = await answers.tick(now[0])
    assert [(a.kind, a.alert.rule, a.alert.brand) for a in opened] == [("open", "unanswered", "Fjordbank")]
    assert json.loads(alerts.sent[0][1])["action"] == "open"
    await stage.process(records([mention(2, "Vi har rettet det.", handle="fjordbank", minutes=12, parent="m1", intent="other")]))
    closed = await answers.tick(now[0] + 5)
    assert [a.kind for a in closed] == ["close"]


async def test_quiet_incidents_close_on_the_wall_clock_only_while_the_stream_is_live():
    states, log = {}, Log()
    config = AlertConfig.model_validate({"crisis_keyword": {"keywords": {"da": ["boykot"]}}, "incidents": {"cooldown_s": 60}})
    alerting = BrandAlerting(states, lambda: config)
    clock = [T0.timestamp()]
    sink = RecordingSink(log, "alerts")
    stage = AlertStage(alerting, sink, clock=lambda: clock[0])
    infos = [MentionInfo(id="c1", text="boykot Fjordbank", published_at=T0.timestamp(), sentiment_label="negative", sentiment_score=-0.9, author="a")]
    raw = [RawRecord(key=b"Fjordbank", value=json.dumps(i.to_dict()).encode()) for i in infos]
    assert [a.kind for a in await stage.process(raw)] == ["open"]
    quiet = QuietIncidents(alerting, stage, sink)
    assert await quiet.tick(T0.timestamp() + 30) == []  # within the cooldown
    stage.lag_s = 3600.0  # a backfill: the wall clock is far ahead of the stream's event time
    assert await quiet.tick(T0.timestamp() + 120) == []
    stage.lag_s = 1.0
    assert [a.kind for a in await quiet.tick(T0.timestamp() + 120)] == ["close"]
    assert await quiet.tick(T0.timestamp() + 180) == []  # closed once


def test_the_bytes_keyed_view_is_a_mutable_mapping_that_hides_tombstones():
    table = {b"a": {"x": 1}, b"gone": None}
    view = BytesKeyedView(table)
    assert "a" in view and "gone" not in view and list(view) == ["a"] and len(view) == 1
    view["b"] = {"y": 2}
    assert view.pop("a") == {"x": 1} and b"a" not in table
    assert view.get("missing", 5) == 5 and sorted(view) == ["b"]


async def test_a_mention_the_team_marked_handled_in_the_inbox_leaves_the_unanswered_alert():
    now = [T0.timestamp()]
    stage, answers, index, _, _ = build(now)
    await stage.process(records([mention(1, "@fjordbank hvor er mit kort?", intent="question")]))
    now[0] += 11 * 60
    assert [a.kind for a in await answers.tick(now[0])] == ["open"]
    settled = []

    async def settled_by_the_team(ids):
        return [i for i in ids if i in settled]

    index.settled_by_the_team = settled_by_the_team
    assert await answers.tick(now[0] + 5) == []  # nothing settled yet: the alert stays open, unchanged
    settled.append("m1")  # `lytter inbox handled m1`
    assert [a.kind for a in await answers.tick(now[0] + 10)] == ["close"]
