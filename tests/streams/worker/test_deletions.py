"""Deletions over plain dicts: recorded, stripped in the index, and honoured when the mention comes again."""

from datetime import datetime, timezone

from streams.processing.pipeline import RawRecord
from streams.schema import DELETED_TEXT, Deletion
from streams.worker.deletions import DeletionStage, HonourDeletions
from tests.streams.worker.fakes import Log, RecordingSink
from tests.streams.worker.test_influence import enriched

AT = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


class Index:
    def __init__(self):
        self.tombstoned = []

    async def tombstone(self, deletions):
        self.tombstoned.extend(d.id for d in deletions)
        return len(deletions)


async def test_a_deletion_is_recorded_then_stripped_from_the_index():
    table, index = {}, Index()
    n = await DeletionStage(table, index).process([RawRecord(key=b"m1", value=Deletion(id="m1", source="mastodon", deleted_at=AT).to_json_bytes())])
    assert n == 1 and index.tombstoned == ["m1"]
    assert table[b"m1"]["at"] == AT.isoformat()


async def test_a_mention_replayed_after_its_deletion_goes_on_without_text_or_author():
    table = {b"m1": {"at": AT.isoformat(), "reason": "deleted", "source": "test"}}
    sink = RecordingSink(Log(), "enriched")
    kept, gone = enriched(0, "anna", text="Fjordbank er super"), enriched(1, "bo", text="Fjordbank er elendig")
    gone.brands = ["Fjordbank"]
    await HonourDeletions(sink, table).send([kept, gone])
    out = {e.mention.id: e for e in sink.sent}
    assert out["m0"].mention.text == "Fjordbank er super" and out["m0"].deleted_at is None
    tomb = out["m1"]
    assert tomb.mention.text == DELETED_TEXT and tomb.mention.author is None and tomb.deleted_at == AT
    doc = tomb.to_document()
    assert doc["text"] == "" and doc["author"] is None and doc["deleted"] is True
    assert doc["brands"] == ["Fjordbank"] and doc["sentiment"]["label"] == "negative"  # the counts keep it
