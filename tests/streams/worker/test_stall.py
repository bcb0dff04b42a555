"""StallDetector: when a partition's committed offset is stuck behind waiting records."""

from streams.worker.stall import StallDetector


def test_a_stuck_partition_is_reported_once_per_stall_period():
    d = StallDetector(stall_s=30)
    assert d.check("p2", 1545, 6573, now=0, busy=False) is False  # first sight
    assert d.check("p2", 1545, 6573, now=29, busy=False) is False
    assert d.check("p2", 1545, 6573, now=31, busy=False) is True
    assert d.check("p2", 1545, 6573, now=40, busy=False) is False  # the re-read needs time to show
    assert d.check("p2", 1545, 6573, now=62, busy=False) is True


def test_progress_starts_the_clock_again():
    d = StallDetector(stall_s=30)
    d.check("p", 7, 100, now=0, busy=False)
    assert d.check("p", 7, 100, now=31, busy=False) is True
    assert d.check("p", 90, 100, now=35, busy=False) is False  # the commit moved: the re-read worked
    assert d.check("p", 90, 100, now=60, busy=False) is False
    assert d.check("p", 90, 100, now=66, busy=False) is True


def test_the_clock_runs_while_busy_but_nothing_is_done_until_the_agent_is_idle():
    d = StallDetector(stall_s=30)
    d.check("p", 20, 100, now=0, busy=False)
    assert d.check("p", 20, 100, now=35, busy=True) is False  # a batch in hand (e.g. waiting out an outage)
    assert d.check("p", 20, 100, now=40, busy=True) is False
    # under steady load the agent is busy at most checks: the first idle moment acts
    assert d.check("p", 20, 100, now=45, busy=False) is True


def test_nothing_waiting_is_not_a_stall():
    d = StallDetector(stall_s=30)
    d.check("p", 20, 20, now=0, busy=False)
    assert d.check("p", 20, 20, now=200, busy=False) is False  # caught up: nothing waiting
    assert d.check("q", None, 50, now=0, busy=False) is False
    assert d.check("q", None, 50, now=100, busy=False) is False  # no committed offset: nothing to seek to
