"""The answer loop: who waits for a brand's answer, when an owned account answered, and the
``unanswered`` alert when nobody did in time. Pure logic over a key-value store; the worker wires it."""

from streams.answer.needs_reply import addressed_brands, mentioned_handles, needs_reply, owned_by
from streams.answer.severity import waiting_severity
from streams.answer.tracker import ClosedEvent, DueEvent, ReplyTracker, TrackerOutcome
from streams.answer.unanswered import UnansweredWatch, close_quiet_incidents

__all__ = [
    "ClosedEvent",
    "DueEvent",
    "ReplyTracker",
    "TrackerOutcome",
    "UnansweredWatch",
    "addressed_brands",
    "close_quiet_incidents",
    "mentioned_handles",
    "needs_reply",
    "owned_by",
    "waiting_severity",
]
