"""End time and latency from Elasticsearch's answers: the poll that saw the documents."""

from __future__ import annotations

import pytest

from streams.bench.visibility import Visibility, sample_ids, wait_all


class FakeIndex:
    """count() and an ids search over the documents 'visible' at each poll (a script of id sets)."""

    def __init__(self, script):
        self.script = list(script)
        self.visible: set[str] = set()
        self.searches: list[list[str]] = []

    def count(self, index):
        if self.script:
            self.visible |= set(self.script.pop(0))
        return {"count": len(self.visible)}

    def search(self, index, query, size, source, track_total_hits):
        asked = query["ids"]["values"]
        self.searches.append(list(asked))
        assert source is False and size == len(asked)
        return {"hits": {"hits": [{"_id": i} for i in asked if i in self.visible]}}


class Clock:
    def __init__(self, start=100.0, step=1.0):
        self.now, self.step = start, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_sample_is_evenly_spaced_and_keeps_first_and_last():
    ids = [str(i) for i in range(10)]
    assert sample_ids(ids, 20) == ids
    assert sample_ids(ids, 4) == ["0", "3", "6", "9"]
    assert sample_ids(ids, 1) == ["0"]
    assert sample_ids([], 5) == [] and sample_ids(ids, 0) == []


def test_each_document_is_seen_at_the_poll_that_first_found_it_and_only_unseen_ids_are_asked():
    index = FakeIndex([["a"], ["b"], ["c"]])
    tracker = Visibility(index, "alias", ["a", "b", "c"], clock=Clock())
    assert [tracker.poll() for _ in range(3)] == [101.0, 102.0, 103.0]
    assert tracker.seen == {"a": 101.0, "b": 102.0, "c": 103.0}
    assert index.searches == [["a", "b", "c"], ["b", "c"], ["c"]]
    # latency from the send time of each record to its poll, not from a stamp taken before the request
    assert tracker.latencies_ms({"a": 100.5, "b": 100.0, "c": 102.0}) == pytest.approx([500.0, 2000.0, 1000.0])


def test_the_run_ends_at_the_poll_whose_count_saw_every_document():
    index = FakeIndex([["a"], ["b"], ["c", "d"]])
    tracker = Visibility(index, "alias", ["a", "d"], clock=Clock())
    sleeps = []
    assert wait_all(tracker, 4, timeout=60, sleep=sleeps.append, clock=Clock(0, 0)) == 103.0
    assert tracker.count == 4 and len(sleeps) == 2
    assert tracker.seen == {"a": 101.0, "d": 103.0}


def test_a_timeout_is_a_miss_with_the_count_that_arrived():
    index = FakeIndex([["a"], ["b"]])
    tracker = Visibility(index, "alias", ["a"], clock=Clock())
    assert wait_all(tracker, 3, timeout=5, sleep=lambda s: None, clock=Clock(0, 2)) is None
    assert tracker.count == 2


def test_a_dead_worker_is_a_miss_unless_the_last_poll_sees_everything():
    tracker = Visibility(FakeIndex([["a"]]), "alias", [], clock=Clock())
    assert wait_all(tracker, 2, timeout=60, alive=lambda: False, sleep=lambda s: None, clock=Clock(0, 0)) is None
    tracker = Visibility(FakeIndex([["a"], ["b"]]), "alias", [], clock=Clock())
    assert wait_all(tracker, 2, timeout=60, alive=lambda: False, sleep=lambda s: None, clock=Clock(0, 0)) == 102.0
