"""Pure helpers of the worker app (the agents themselves run in tests/integration)."""

from streams.worker.deliver import alert_version


def test_alert_versions_order_open_updates_and_close():
    versions = [
        alert_version({"action": "open", "updates": 0}),
        alert_version({"action": "update", "updates": 1}),
        alert_version({"action": "update", "updates": 2}),
        alert_version({"action": "close", "updates": 2}),
    ]
    assert versions == sorted(versions) and len(set(versions)) == 4
    # a replayed older version compares below what was delivered, so it is skipped
    assert alert_version({"action": "open", "updates": 0}) < alert_version({"action": "update", "updates": 4})


def test_delivered_versions_from_this_and_earlier_releases_compare_with_new_ones():
    from streams.worker.deliver import delivered_version

    assert delivered_version(None) is None
    assert delivered_version([3, 1]) == alert_version({"action": "update", "updates": 3})
    assert delivered_version("open:0") == alert_version({"action": "open", "updates": 0})
    assert delivered_version("update:4") > alert_version({"action": "update", "updates": 2})


# --- the stage over in-memory channels ---------------------------------------------------------------

import json  # noqa: E402

from streams.processing.pipeline import RawRecord  # noqa: E402
from streams.worker.deliver import DeliveryStage  # noqa: E402


class Channel:
    name = "memory"

    def __init__(self, log):
        self.log = log

    async def deliver(self, alert):
        self.log.append(("deliver", alert["alert_id"], alert["action"], alert["updates"]))


class AlertIndex:
    def __init__(self, log):
        self.log = log

    async def index(self, alert):
        self.log.append(("index", alert["alert_id"], alert["action"]))


def alert(action, updates, alert_id="a1"):
    return RawRecord(key=alert_id.encode(), value=json.dumps({"alert_id": alert_id, "action": action, "updates": updates}).encode())


def delivery(log, table):
    async def flush():
        log.append(("flush",))

    return DeliveryStage(AlertIndex(log), [Channel(log)], table, flush)


async def test_each_version_is_delivered_once_and_recorded_before_the_next():
    log, table = [], {}
    stage = delivery(log, table)
    await stage.process([alert("open", 0), alert("update", 1)])
    assert log == [
        ("index", "a1", "open"), ("deliver", "a1", "open", 0), ("flush",),
        ("index", "a1", "update"), ("deliver", "a1", "update", 1), ("flush",),
    ]
    assert table[b"a1"]["version"] == [1, 1]


async def test_a_replay_after_a_crash_indexes_again_but_delivers_only_newer_versions():
    log, table = [], {}
    await delivery(log, table).process([alert("open", 0), alert("update", 1)])
    log.clear()
    restarted = delivery(log, table)  # same changelog-backed table, new process
    sent = await restarted.process([alert("open", 0), alert("update", 1), alert("close", 1)])
    assert sent == 1
    assert [e for e in log if e[0] == "deliver"] == [("deliver", "a1", "close", 1)]
    assert [e[2] for e in log if e[0] == "index"] == ["open", "update", "close"]  # idempotent in ES
