"""The inbox state machine and its input validation (no Elasticsearch)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from streams.inbox.actions import MAX_AUDIT, MAX_NOTES, InboxConflict, apply_action, make_action, parse_duration
from streams.inbox.queue import InboxError, Version

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def run(*steps, state=None):
    """Apply (action, kwargs, by) steps from ``state``; the state after each."""
    for name, inputs, by in steps:
        state = apply_action(state, make_action(name, now=NOW, **inputs), by, NOW)
    return state


def test_assign_then_handled_records_who_and_what():
    state = run(("assign", {"to": "dana"}, "erik"), ("handled", {}, "dana"))
    assert state["status"] == "handled" and state["assignee"] == "dana"
    assert state["updated_by"] == "dana" and state["updated_at"] == NOW.isoformat()
    assert [(e["by"], e["action"], e["detail"]) for e in state["audit"]] == [("erik", "assign", "to dana"), ("dana", "handled", "")]


def test_apply_action_does_not_change_its_input():
    before = run(("assign", {"to": "dana"}, "erik"))
    snapshot = repr(before)
    apply_action(before, make_action("handled"), "dana", NOW)
    assert repr(before) == snapshot


@pytest.mark.parametrize("closed", ["handled", "no_reply_needed"])
@pytest.mark.parametrize("action,inputs", [("assign", {"to": "x"}), ("handled", {}), ("no_reply_needed", {}), ("snooze", {"duration": "1h"})])
def test_a_closed_mention_must_be_reopened_first(closed, action, inputs):
    state = run((closed, {}, "erik"))
    with pytest.raises(InboxError, match="reopen it first"):
        run((action, inputs, "erik"), state=state)
    reopened = run(("reopen", {}, "frida"), (action, inputs, "frida"), state=state)
    assert reopened["audit"][-2]["action"] == "reopen"


def test_reopen_an_open_mention_is_refused():
    with pytest.raises(InboxError, match="cannot reopen a mention that is open"):
        run(("reopen", {}, "erik"))


def test_snooze_sets_until_and_reopen_clears_it():
    snoozed = run(("assign", {"to": "dana"}, "erik"), ("snooze", {"duration": "2h"}, "dana"))
    assert snoozed["status"] == "snoozed" and snoozed["snoozed_until"] == (NOW + timedelta(hours=2)).isoformat()
    assert snoozed["assignee"] == "dana"  # a snooze keeps who has it
    reopened = run(("reopen", {}, "dana"), state=snoozed)
    assert reopened["status"] == "open" and reopened["snoozed_until"] is None and reopened["assignee"] is None


def test_note_keeps_the_status_and_notes_are_bounded():
    state = run(("handled", {}, "erik"))
    for i in range(MAX_NOTES + 5):
        state = apply_action(state, make_action("note", text=f"note {i}"), "erik", NOW)
    assert state["status"] == "handled"
    assert len(state["notes"]) == MAX_NOTES and state["notes"][-1]["text"] == f"note {MAX_NOTES + 4}"
    assert len(state["audit"]) == MAX_AUDIT and state["audit"][0]["action"] == "note"  # the oldest dropped


@pytest.mark.parametrize("name,inputs,message", [
    ("archive", {}, "unknown action 'archive'"),
    ("assign", {"to": "  "}, "assignee"),
    ("assign", {"to": "a\nb"}, "control characters"),
    ("note", {"text": ""}, "text is empty"),
    ("note", {"text": "x" * 2001}, "at most 2000"),
    ("snooze", {}, "either 'until'"),
    ("snooze", {"duration": "2h", "until": "2026-12-24T09:00:00+01:00"}, "either 'until'"),
    ("snooze", {"duration": "soon"}, "not a number with m, h, d or w"),
    ("snooze", {"until": "tomorrow"}, "not an ISO time"),
    ("snooze", {"until": "2026-12-03T11:00:00+00:00"}, "not in the future"),
    ("snooze", {"duration": "31d"}, "more than 30 days"),
])
def test_bad_input_is_refused_with_the_field_named(name, inputs, message):
    with pytest.raises(InboxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_action(name, now=NOW, **inputs)


def test_cli_spellings_of_actions_are_accepted():
    assert make_action("no-reply").name == "no_reply_needed"
    assert make_action("no_reply_needed").name == "no_reply_needed"


def test_an_empty_user_is_refused():
    with pytest.raises(InboxError, match="LYTTER_INBOX_USER"):
        apply_action(None, make_action("handled"), " ", NOW)


@pytest.mark.parametrize("text,seconds", [("30m", 1800), ("2h", 7200), ("1.5d", 129600), ("1w", 604800), (" 2 h ", 7200)])
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


def test_snooze_until_a_naive_time_is_taken_as_utc():
    action = make_action("snooze", until="2026-12-04T08:00:00", now=NOW)
    assert action.until == datetime(2026, 12, 4, 8, 0, tzinfo=timezone.utc)


def test_conflict_message_names_who_changed_it_and_how():
    conflict = InboxConflict("m-1", Version(3, 1), Version(5, 1), {"by": "erik", "at": NOW.isoformat(), "action": "assign", "detail": "to dana"})
    text = str(conflict)
    assert "erik" in text and "assign: to dana" in text and "3:1" in text and "5:1" in text and "Nothing was changed" in text
    reindexed = str(InboxConflict("m-1", Version(3, 1), Version(4, 1), None))
    assert "re-indexed" in reindexed
