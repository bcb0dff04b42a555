"""The influence stage over in-memory sinks: one complete write per mention, then the fan-out per brand."""

import json

from streams.processing.pipeline import RawRecord
from streams.schema import DeadLetter, RecordOrigin
from streams.worker.influence import InfluenceScorer, InfluenceStage
from tests.streams.worker.fakes import Indexed, Log, RecordingSink
from tests.streams.worker.test_influence import NOW, enriched


def record(e, offset):
    e.origin = RecordOrigin(topic="mentions.raw", partition=0, offset=offset, key=e.mention.id)
    return RawRecord(key=b"k", value=e.model_dump_json().encode(), topic="mentions.enriched", partition=0, offset=offset)


def stage(log, refuse=frozenset()):
    index, dead, by_brand = Indexed(log, refuse), RecordingSink(log, "dead"), RecordingSink(log, "by_brand")
    s = InfluenceStage(lambda: InfluenceScorer({}), index=index, deadletters=dead, by_brand=by_brand, clock=lambda: NOW)
    return s, index, dead, by_brand


async def test_each_document_is_written_once_complete_and_before_the_fan_out():
    log = Log()
    s, index, dead, by_brand = stage(log)
    items = [enriched(i, f"u{i}", followers=100 * (i + 1)) for i in range(3)]
    items[0].brands = ["Fjordbank", "Nordlys Energi"]
    items[1].brands = ["Fjordbank"]
    outcome = await s.process([record(e, i) for i, e in enumerate(items)])
    assert log.events == [("index", 3), ("by_brand", 3)]  # one bulk write, then one record per (mention, brand)
    assert {d["id"] for d in index.documents} == {"m0", "m1", "m2"}
    assert all({"influence", "reach", "impact", "lang", "sentiment"} <= set(d) for d in index.documents)
    assert sorted(key for key, _ in by_brand.sent) == [b"Fjordbank", b"Fjordbank", b"Nordlys Energi"]
    assert json.loads(by_brand.sent[0][1])["id"] == "m0"
    assert (outcome.indexed, outcome.dead_lettered, dead.sent) == (3, 0, [])


async def test_a_refused_document_is_dead_lettered_with_its_raw_origin_and_not_fanned_out():
    log = Log()
    s, index, dead, by_brand = stage(log, refuse={"m1"})
    items = [enriched(i, f"u{i}") for i in range(2)]
    for e in items:
        e.brands = ["Fjordbank"]
    outcome = await s.process([record(e, 40 + i) for i, e in enumerate(items)])
    assert (outcome.indexed, outcome.dead_lettered) == (1, 1)
    key, letter = dead.sent[0]
    assert isinstance(letter, DeadLetter) and letter.stage == "index" and "mapper_parsing_exception" in letter.reason
    assert (letter.topic, letter.partition, letter.offset, letter.mention_id) == ("mentions.raw", 0, 41, "m1")
    # keyed (streams/sinks/kafka.py) by the raw record, not by the enriched one this stage read: a replay
    # of either topic after a crash writes a letter with the same key
    assert letter.source_key() == "mentions.raw/0/41"
    assert json.loads(letter.original())["id"] == "m1"  # the mention itself, replayable into mentions.raw
    assert [json.loads(v)["id"] for _, v in by_brand.sent] == ["m0"]
    assert log.events == [("index", 2), ("dead", 1), ("by_brand", 1)]


async def test_a_failing_fan_out_raises_so_the_batch_is_not_acknowledged():
    log = Log()
    index, dead = Indexed(log), RecordingSink(log, "dead")
    by_brand = RecordingSink(log, "by_brand", fail=RuntimeError("broker gone"))
    s = InfluenceStage(lambda: InfluenceScorer({}), index=index, deadletters=dead, by_brand=by_brand, clock=lambda: NOW)
    e = enriched(1, "u1")
    e.brands = ["Fjordbank"]
    try:
        await s.process([record(e, 1)])
    except RuntimeError:
        pass
    else:
        raise AssertionError("the stage swallowed a failed send")
