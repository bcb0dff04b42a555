"""In-memory sinks for the worker's stage tests: they record what was sent, in order, into one log."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Log:
    events: list = field(default_factory=list)


class RecordingSink:
    def __init__(self, log: Log, name: str, fail: Exception | None = None) -> None:
        self.log, self.name, self.fail, self.sent = log, name, fail, []

    async def send(self, records) -> None:
        self.log.events.append((self.name, len(records)))
        if self.fail is not None:
            raise self.fail
        self.sent.extend(records)


class Indexed:
    """A DocumentSink: refuses the ids in ``refuse`` the way MentionIndexer reports a refusal."""

    def __init__(self, log: Log, refuse: set[str] = frozenset()) -> None:
        self.log, self.refuse, self.documents = log, set(refuse), []

    async def index(self, documents):
        self.log.events.append(("index", len(documents)))
        self.documents.extend(d for d in documents if d["id"] not in self.refuse)

        class Result:
            failed = [(d["id"], 400, "mapper_parsing_exception: bad field") for d in documents if d["id"] in self.refuse]

        return Result()


class IndexedWithUpdates(Indexed):
    """An Indexed that also takes partial updates (the answer loop's answered_* fields)."""

    def __init__(self, log: Log, refuse: set[str] = frozenset()) -> None:
        super().__init__(log, refuse)
        self.updates: list[dict] = []

    async def update_fields(self, updates):
        self.log.events.append(("update", len(updates)))
        self.updates.extend(updates)
        return len(updates)
