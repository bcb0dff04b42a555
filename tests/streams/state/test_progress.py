"""StallDetector: when a partition's committed offset is stuck behind waiting records, and what to do."""

from streams.state.progress import Stall, StallDetector


def test_a_stuck_partition_is_reread_once_then_treated_as_a_hole():
    d = StallDetector(stall_s=30)
    assert d.check("p2", 1545, 6573, now=0, busy=False) is None  # first sight
    assert d.check("p2", 1545, 6573, now=29, busy=False) is None
    assert d.check("p2", 1545, 6573, now=31, busy=False) is Stall.REREAD
    assert d.check("p2", 1545, 6573, now=40, busy=False) is None  # the re-read needs time to show
    # still stuck at the same offset a stall period after the re-read: there is no record there
    assert d.check("p2", 1545, 6573, now=62, busy=False) is Stall.HOLE


def test_a_reread_that_fills_the_gap_starts_over():
    d = StallDetector(stall_s=30)
    d.check("p", 7, 100, now=0, busy=False)
    assert d.check("p", 7, 100, now=31, busy=False) is Stall.REREAD
    assert d.check("p", 90, 100, now=35, busy=False) is None  # the commit moved: the re-read worked
    assert d.check("p", 90, 100, now=70, busy=False) is Stall.REREAD  # a new stall is re-read first again


def test_the_clock_runs_while_busy_but_nothing_is_done_until_the_agent_is_idle():
    d = StallDetector(stall_s=30)
    d.check("p", 20, 100, now=0, busy=False)
    assert d.check("p", 20, 100, now=35, busy=True) is None  # a batch in hand (e.g. waiting out an outage)
    assert d.check("p", 20, 100, now=40, busy=True) is None
    # under steady load the agent is busy at most checks: the first idle moment acts
    assert d.check("p", 20, 100, now=45, busy=False) is Stall.REREAD


def test_progress_or_nothing_waiting_is_not_a_stall():
    d = StallDetector(stall_s=30)
    d.check("p", 10, 100, now=0, busy=False)
    assert d.check("p", 20, 100, now=40, busy=False) is None  # the commit moved
    assert d.check("p", 20, 20, now=200, busy=False) is None  # caught up: nothing waiting
    assert d.check("p", 20, 20, now=400, busy=False) is None
    assert d.check("q", None, 50, now=0, busy=False) is None
    assert d.check("q", None, 50, now=100, busy=False) is None  # no committed offset: nothing to seek to
