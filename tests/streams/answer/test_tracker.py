import json
from datetime import timedelta

import pytest

from streams.answer import ReplyTracker
from streams.answer.tracker import DEFAULT_TTL_S, MAX_WALK

from .conftest import T0

BRAND = "did:plc:nordlys"  # the author id of Nordlys' Bluesky account


@pytest.fixture
def tracker(store, watch, clock):
    return ReplyTracker(store, lambda: watch, clock)


def question(mention, mention_id="q1", minutes=0.0, **kw):
    return mention(mention_id, "@nordlys.bsky.social hvornår kommer min regning?", minutes=minutes, **kw)


def answer(mention, parent, mention_id="r1", minutes=12.0, author=BRAND):
    return mention(mention_id, "Vi ser på det nu!", author=author, parent=parent, minutes=minutes)


def test_a_question_gets_its_deadline_and_the_reply_after_it_answers_it(tracker, mention):
    q = question(mention)
    first = tracker.observe([q])
    assert (q.needs_reply, q.addressed_to, q.owned_by) == (True, ["Nordlys"], None)
    assert q.reply_due_at == T0 + timedelta(minutes=30)  # the brand's Bluesky target
    assert [(d.mention_id, d.brand, d.due_at) for d in first.due] == [("q1", "Nordlys", (T0 + timedelta(minutes=30)).timestamp())]
    r = answer(mention, "q1")
    second = tracker.observe([r])
    assert (r.owned_by, r.needs_reply) == ("Nordlys", False)
    assert second.answered == {"q1": {"answered_at": (T0 + timedelta(minutes=12)).isoformat(), "answered_by": BRAND, "response_time_s": 720.0, "answered_within_target": True}}
    assert [(c.mention_id, c.brand, c.reason) for c in second.closed] == [("q1", "Nordlys", "answered")]


def test_a_reply_that_arrives_first_answers_the_question_when_it_comes(tracker, mention):
    assert tracker.observe([answer(mention, "q1")]).answered == {}
    q = question(mention)
    outcome = tracker.observe([q])
    assert (q.answered_at, q.answered_by, q.response_time_s) == (T0 + timedelta(minutes=12), BRAND, 720.0)
    assert outcome.answered == {}  # not written yet: the document carries the fields itself
    assert outcome.due == [] and outcome.closed == []


@pytest.mark.parametrize("reply_first", [False, True])
def test_question_and_reply_in_one_batch(tracker, mention, reply_first):
    q, r = question(mention), answer(mention, "q1")
    outcome = tracker.observe([r, q] if reply_first else [q, r])
    assert q.response_time_s == 720.0
    assert (outcome.answered, outcome.due, outcome.closed) == ({}, [], [])


@pytest.mark.parametrize("reply_first", [False, True])
def test_a_new_tracker_over_the_same_store_carries_on(store, watch, clock, mention, reply_first):
    first, second = (answer(mention, "q1"), question(mention)) if reply_first else (question(mention), answer(mention, "q1"))
    ReplyTracker(store, lambda: watch, clock).observe([first])
    outcome = ReplyTracker(store, lambda: watch, clock).observe([second])
    q = second if reply_first else first
    if reply_first:
        assert q.response_time_s == 720.0
    else:
        assert outcome.answered["q1"]["response_time_s"] == 720.0


def test_replaying_batches_changes_nothing_and_raises_no_event_twice(tracker, store, mention):
    batches = [[question(mention), mention("x1", "ikke relevant")], [answer(mention, "q1")]]
    outcomes = [tracker.observe(b) for b in batches]
    assert outcomes[1].answered and outcomes[0].due
    snapshot = json.dumps(dict(store), sort_keys=True)
    again = tracker.observe([question(mention), mention("x1", "ikke relevant")])
    assert (again.answered, again.due, again.closed) == ({}, [], [])
    # the replayed answer re-sends the same partial update (a crash may have lost the first), nothing else
    again = tracker.observe([answer(mention, "q1")])
    assert (again.answered, again.due, again.closed) == (outcomes[1].answered, [], [])
    assert json.dumps(dict(store), sort_keys=True) == snapshot
    replayed = question(mention)
    tracker.observe([replayed])
    assert (replayed.needs_reply, replayed.response_time_s) == (True, 720.0)  # the document is rewritten whole


def test_a_replayed_reply_waiting_for_its_parent_waits_once(tracker, store, mention):
    tracker.observe([answer(mention, "q1")])
    del store["m:r1"]  # a crash between the two table writes: the wait survived, the reply's record not
    tracker.observe([answer(mention, "q1")])
    assert len(store["w:q1"]["replies"]) == 1


def test_a_second_later_answer_changes_nothing(tracker, mention):
    tracker.observe([question(mention)])
    tracker.observe([answer(mention, "q1", "r1", minutes=5)])
    later = tracker.observe([answer(mention, "q1", "r2", minutes=20)])
    assert (later.answered, later.closed) == ({}, [])


def test_an_earlier_reply_seen_later_replaces_the_answer(tracker, mention):
    tracker.observe([question(mention)])
    tracker.observe([answer(mention, "q1", "r2", minutes=20)])
    outcome = tracker.observe([answer(mention, "q1", "r1", minutes=5)])
    assert outcome.answered["q1"]["response_time_s"] == 300.0
    assert outcome.closed == []  # closed once already


def test_the_answer_walks_up_through_replies_that_needed_none(tracker, mention):
    tracker.observe([question(mention)])
    me_too = mention("p1", "Samme problem her", parent="q1", minutes=2, intent="other")
    tracker.observe([me_too])
    assert me_too.needs_reply is False
    outcome = tracker.observe([answer(mention, "p1", minutes=20)])
    assert outcome.answered["q1"]["response_time_s"] == 1200.0


def test_the_walk_stops_at_another_brands_question_and_after_max_walk(tracker, mention):
    tracker.observe([question(mention)])
    tracker.observe([mention("f1", "@fjordbank.bsky.social kan I hjælpe?", parent="q1", minutes=1)])
    assert tracker.observe([answer(mention, "f1")]).answered == {}

    tracker.observe([question(mention, "q2")])
    parent = "q2"
    for i in range(MAX_WALK):
        tracker.observe([mention(f"c{i}", "ok", parent=parent, minutes=1 + i, intent="other")])
        parent = f"c{i}"
    assert tracker.observe([answer(mention, parent, "r9", minutes=30)]).answered == {}


def test_replies_in_a_thread_the_brand_started_are_addressed_to_it(tracker, mention):
    post = mention("p1", "Ny app i dag!", source="mastodon", author="nordlys@mastodon.social")
    reply = mention("c1", "Den crasher hos mig", source="mastodon", author="a@x.social", parent="p1", minutes=3)
    deeper = mention("c2", "Også her", source="mastodon", author="b@y.social", parent="c1", minutes=4)
    tracker.observe([post])
    tracker.observe([reply])
    tracker.observe([deeper])
    assert post.owned_by == "Nordlys" and post.needs_reply is False
    assert (reply.addressed_to, reply.needs_reply) == (["Nordlys"], True)
    assert (deeper.addressed_to, deeper.needs_reply) == (["Nordlys"], True)
    assert reply.reply_due_at == T0 + timedelta(minutes=63)  # the brand's default target, 60 min


def test_a_deletion_takes_the_mention_out_of_the_queue_and_drops_its_snippet(tracker, store, mention):
    tracker.observe([question(mention)])
    assert "top" in store["m:q1"]
    tombstone = question(mention, deleted=True)
    outcome = tracker.observe([tombstone])
    assert [(c.mention_id, c.reason) for c in outcome.closed] == [("q1", "deleted")]
    assert tombstone.needs_reply is False and "top" not in store["m:q1"]


def test_entries_older_than_the_ttl_are_pruned(tracker, store, clock, mention):
    tracker.observe([question(mention)])
    tracker.observe([answer(mention, "unknown-parent", "r5")])
    clock.now += DEFAULT_TTL_S - 1
    tracker.observe([question(mention, "q2")])
    assert tracker.prune() == 0
    clock.now += 2
    assert tracker.prune() == 3  # q1, the reply r5 and its wait for the parent; q2 is younger
    assert sorted(store) == ["m:q2"]
    assert tracker.observe([answer(mention, "q1")]).answered == {}


def test_an_answer_after_the_brands_target_is_recorded_as_late(tracker, mention):
    q = question(mention)
    tracker.observe([q])
    late = answer(mention, "q1", minutes=45.0)  # the brand's Bluesky target is 30 minutes
    outcome = tracker.observe([late])
    assert outcome.answered["q1"]["answered_within_target"] is False
    replayed = question(mention)
    tracker.observe([replayed])
    assert (replayed.response_time_s, replayed.answered_within_target) == (2700.0, False)


def test_each_answer_counts_once_for_the_response_time_metric_whatever_the_order_or_replays(tracker, mention):
    assert tracker.observe([answer(mention, "q1")]).first_answers == {}  # the reply first: nothing to time yet
    assert tracker.observe([question(mention)]).first_answers == {"q1": 720.0}
    assert tracker.observe([answer(mention, "q1")]).first_answers == {}  # a replay re-sends the update only
    assert tracker.observe([question(mention)]).first_answers == {}
