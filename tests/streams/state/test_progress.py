"""StallDetector: when a partition's committed offset is stuck behind waiting records."""

from streams.state.progress import StallDetector


def test_a_stuck_partition_is_reported_once_per_stall_period():
    d = StallDetector(stall_s=30)
    assert d.check("p2", 1545, 6573, now=0, busy=False) is False  # first sight
    assert d.check("p2", 1545, 6573, now=29, busy=False) is False
    assert d.check("p2", 1545, 6573, now=31, busy=False) is True
    assert d.check("p2", 1545, 6573, now=40, busy=False) is False  # the seek needs time to show
    assert d.check("p2", 1545, 6573, now=62, busy=False) is True


def test_progress_work_in_hand_or_nothing_waiting_is_not_a_stall():
    d = StallDetector(stall_s=30)
    d.check("p", 10, 100, now=0, busy=False)
    assert d.check("p", 20, 100, now=40, busy=False) is False  # the commit moved
    assert d.check("p", 20, 100, now=65, busy=True) is False  # a batch in hand (e.g. waiting out an outage)
    assert d.check("p", 20, 100, now=90, busy=False) is False  # busy reset the clock
    assert d.check("p", 20, 20, now=200, busy=False) is False  # caught up: nothing waiting
    assert d.check("q", None, 50, now=0, busy=False) is False
    assert d.check("q", None, 50, now=100, busy=False) is False  # no committed offset: nothing to seek to
