"""What the team does with a queued mention: assign, handled, no_reply_needed, note, snooze, reopen.

:func:`apply_action` is the pure state machine (inbox state + action -> new state, or InboxError);
:func:`perform` is the Elasticsearch wrapper: it writes the new ``inbox`` object with
``if_seq_no``/``if_primary_term`` of the version the user saw, so two people acting on the same version
cannot both win: the second gets :class:`InboxConflict` (who changed it last, and how) and nothing of
theirs is written.

Transitions (``open`` is the state of a mention nobody has touched)::

    assign TO         open, assigned, snoozed   -> assigned (assignee TO)
    handled           open, assigned, snoozed   -> handled
    no_reply_needed   open, assigned, snoozed   -> no_reply_needed
    snooze UNTIL      open, assigned, snoozed   -> snoozed until UNTIL (in the future, at most 30 days)
    reopen            assigned, snoozed, handled, no_reply_needed -> open (assignee and snooze cleared)
    note TEXT         any                       -> unchanged status, note appended

Every action appends an audit entry ``{by, at, action, detail}``; the last 100 audit entries and the last
100 notes are kept.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from streams.inbox.queue import InboxError, Version, parse_time
from streams.settings import Settings

MAX_AUDIT = 100
MAX_NOTES = 100
MAX_NOTE_CHARS = 2000
MAX_NAME_CHARS = 128
MAX_SNOOZE = timedelta(days=30)

ACTIONS = ("assign", "handled", "no_reply_needed", "note", "snooze", "reopen")
ACTIVE = ("open", "assigned", "snoozed")
_ALLOWED_FROM = {
    "assign": ACTIVE,
    "handled": ACTIVE,
    "no_reply_needed": ACTIVE,
    "snooze": ACTIVE,
    "reopen": ("assigned", "snoozed", "handled", "no_reply_needed"),
    "note": ("open", "assigned", "snoozed", "handled", "no_reply_needed"),
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class InboxNotFound(LookupError):
    """No mention with that id behind the alias."""


@dataclass
class InboxConflict(Exception):
    """The mention changed since the version the user saw; nothing was written."""

    mention_id: str
    seen: Version
    current: Version
    last_change: dict[str, Any] | None  # the newest audit entry, if any

    def __str__(self) -> str:
        if self.last_change:
            entry = self.last_change
            who = f"{entry.get('by')} changed it at {entry.get('at')} ({entry.get('action')}" + (
                f": {entry.get('detail')})" if entry.get("detail") else ")")
        else:
            who = "it was re-indexed (no inbox change recorded: the worker updated the mention)"
        return (f"mention {self.mention_id} changed since version {self.seen} (now {self.current}): {who}. "
                f"Nothing was changed; look again (`lytter inbox show {self.mention_id}`) and retry.")


@dataclass(frozen=True)
class Action:
    """One validated action: use :func:`make_action` to build it from user input."""

    name: str
    assignee: str | None = None
    text: str | None = None
    until: datetime | None = None


def parse_duration(text: str) -> timedelta:
    """``30m``, ``2h``, ``1.5d``, ``1w`` -> timedelta; InboxError otherwise."""
    match = _DURATION.match(text or "")
    if not match:
        raise InboxError(f"duration {text!r} is not a number with m, h, d or w (e.g. 30m, 2h, 1d)")
    return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2)])


def clean_name(value: str | None, what: str) -> str:
    name = (value or "").strip()
    if not name:
        raise InboxError(f"{what} is empty: give a name")
    if len(name) > MAX_NAME_CHARS or any(ord(ch) < 32 for ch in name):
        raise InboxError(f"{what} {name[:40]!r} is not a name: at most {MAX_NAME_CHARS} characters, no control characters")
    return name


def make_action(name: str, *, to: str | None = None, text: str | None = None, until: str | datetime | None = None,
                duration: str | None = None, now: datetime | None = None) -> Action:
    """Validate user input into an Action (InboxError names the field at fault)."""
    name = (name or "").strip().replace("-", "_")
    if name == "no_reply":
        name = "no_reply_needed"
    if name not in ACTIONS:
        raise InboxError(f"unknown action {name!r}: use one of {', '.join(ACTIONS)}")
    if name == "assign":
        return Action(name, assignee=clean_name(to, "assign: the assignee ('to')"))
    if name == "note":
        body = (text or "").strip()
        if not body:
            raise InboxError("note: the text is empty")
        if len(body) > MAX_NOTE_CHARS:
            raise InboxError(f"note: the text has {len(body)} characters; at most {MAX_NOTE_CHARS}")
        return Action(name, text=body)
    if name == "snooze":
        return Action(name, until=_snooze_until(until, duration, now or datetime.now(timezone.utc)))
    return Action(name)


def _snooze_until(until: str | datetime | None, duration: str | None, now: datetime) -> datetime:
    if (until is None) == (duration is None):
        raise InboxError("snooze: give either 'until' (an ISO time) or 'for' (a duration such as 2h), not both or neither")
    if duration is not None:
        moment = now + parse_duration(duration)
    else:
        try:
            moment = until if isinstance(until, datetime) else parse_time(until)
        except ValueError:
            moment = None
        if moment is None:
            raise InboxError(f"snooze: 'until' {until!r} is not an ISO time such as 2026-12-24T09:00:00+01:00")
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if moment <= now:
        raise InboxError(f"snooze: {moment.isoformat()} is not in the future")
    if moment - now > MAX_SNOOZE:
        raise InboxError(f"snooze: {moment.isoformat()} is more than {MAX_SNOOZE.days} days away")
    return moment.astimezone(timezone.utc)


def _detail(action: Action) -> str:
    if action.name == "assign":
        return f"to {action.assignee}"
    if action.name == "snooze":
        return f"until {action.until.isoformat()}"
    if action.name == "note":
        return action.text if len(action.text) <= 200 else action.text[:199] + "…"
    return ""


def apply_action(state: dict[str, Any] | None, action: Action, by: str, now: datetime) -> dict[str, Any]:
    """The inbox state after ``action`` by ``by`` at ``now`` (pure: ``state`` is not changed)."""
    by = clean_name(by, "the user (--as / LYTTER_INBOX_USER)")
    new = copy.deepcopy(state or {})
    status = new.get("status") or "open"
    if status not in _ALLOWED_FROM[action.name]:
        hint = "reopen it first" if status in ("handled", "no_reply_needed") else "nothing to do"
        raise InboxError(f"cannot {action.name.replace('_', ' ')} a mention that is {status.replace('_', ' ')}: {hint}")
    at = now.astimezone(timezone.utc).isoformat()
    if action.name == "assign":
        new.update(status="assigned", assignee=action.assignee, snoozed_until=None)
    elif action.name in ("handled", "no_reply_needed"):
        new.update(status=action.name, snoozed_until=None)
    elif action.name == "snooze":
        new.update(status="snoozed", snoozed_until=action.until.isoformat())
    elif action.name == "reopen":
        new.update(status="open", assignee=None, snoozed_until=None)
    else:  # note
        new["status"] = status
        new["notes"] = (list(new.get("notes") or []) + [{"by": by, "at": at, "text": action.text}])[-MAX_NOTES:]
    new.update(updated_at=at, updated_by=by)
    entry = {"by": by, "at": at, "action": action.name, "detail": _detail(action)}
    new["audit"] = (list(new.get("audit") or []) + [entry])[-MAX_AUDIT:]
    return new


@dataclass
class Current:
    """A mention as it is now: where it lives, its version and document."""

    id: str
    index: str
    version: Version
    doc: dict[str, Any]

    @property
    def inbox(self) -> dict[str, Any]:
        return self.doc.get("inbox") or {}


def current(settings: Settings, mention_id: str, client) -> Current:
    """The mention behind the alias (its concrete index is needed to update it)."""
    response = client.search(index=settings.es_index_prefix, query={"ids": {"values": [mention_id]}}, size=1,
                             seq_no_primary_term=True, ignore_unavailable=True, allow_no_indices=True)
    hits = response["hits"]["hits"]
    if not hits:
        raise InboxNotFound(f"no mention with id {mention_id!r} in {settings.es_index_prefix} (LYTTER_ES_INDEX_PREFIX): "
                            "check the id with `lytter inbox list`")
    # search is near-real-time; a GET on the concrete index is real-time (a write a moment ago shows)
    hit = client.get(index=hits[0]["_index"], id=mention_id)
    return Current(hit["_id"], hit["_index"], Version(hit["_seq_no"], hit["_primary_term"]), hit["_source"])


def _last_change(doc: dict[str, Any]) -> dict[str, Any] | None:
    audit = (doc.get("inbox") or {}).get("audit") or []
    return audit[-1] if audit else None


@dataclass
class ActionResult:
    id: str
    version: Version  # the document's version after the write
    inbox: dict[str, Any]


def perform(settings: Settings, mention_id: str, action: Action, by: str, *, version: Version | None = None,
            client=None, now: datetime | None = None) -> ActionResult:
    """Apply ``action`` to the mention if it is still at ``version`` (default: whatever is current)."""
    from elasticsearch import exceptions as es_exceptions

    from streams.sinks.elasticsearch import sync_client

    own = client is None
    client = client or sync_client(settings)
    try:
        seen = current(settings, mention_id, client)
        expected = version or seen.version
        if expected != seen.version:
            raise InboxConflict(mention_id, expected, seen.version, _last_change(seen.doc))
        new_state = apply_action(seen.inbox, action, by, now or datetime.now(timezone.utc))
        try:
            response = client.update(index=seen.index, id=mention_id, doc={"inbox": new_state},
                                     if_seq_no=expected.seq_no, if_primary_term=expected.primary_term, refresh="wait_for")
        except es_exceptions.ConflictError:
            # somebody wrote between our read and our write: report what the document holds now
            after = current(settings, mention_id, client)
            raise InboxConflict(mention_id, expected, after.version, _last_change(after.doc)) from None
        return ActionResult(mention_id, Version(response["_seq_no"], response["_primary_term"]), new_state)
    finally:
        if own:
            client.close()
