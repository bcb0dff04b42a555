"""BrandAlerting over plain dicts: the same code the worker runs over Faust tables."""

import random

from streams.alerting.config import AlertConfig
from streams.alerting.mentions import MentionInfo
from streams.alerting.brands import BrandAlerting, BrandWindows

T0 = 1_700_000_000.0  # a minute boundary is not needed: windows align themselves


def info(i, at, label="neutral", text="hei", influence=10.0, score=0.0):
    return MentionInfo(id=f"m{i}", text=text, published_at=at, sentiment_label=label, sentiment_score=score, influence=influence, author=f"a{i}")


def make(config=None):
    """(alerting, states, states): windows and incidents live in one value per brand."""
    states = {}
    config = config or AlertConfig()
    return BrandAlerting(states, lambda: config), states, states


def newest(windows, brand="Acme"):
    """The newest open window of a brand, as stored."""
    stored = windows[brand]["windows"]
    return stored[max(stored, key=float)]


def feed_baseline(alerting, minutes=40, per_minute=3):
    n = 0
    for minute in range(minutes):
        for j in range(per_minute):
            alerting.on_mention("Acme", info(n, T0 + minute * 60 + j * 15))
            n += 1
    return n


def test_quiet_baseline_raises_nothing_and_burst_raises_one_spike():
    alerting, windows, _ = make()
    n = feed_baseline(alerting)
    burst_start = T0 + 40 * 60
    actions = []
    for k in range(30):
        actions += alerting.on_mention("Acme", info(n + k, burst_start + k, text="helt normal tekst"))
    opened = [a for a in actions if a.kind == "open"]
    assert [a.alert.rule for a in opened] == ["volume_spike"]
    # it fired early in the open window, not at its end
    fired_at = next(i for i, a in enumerate(actions) if a.kind == "open")
    assert fired_at < 15
    assert newest(windows)["volume"] == 30


def test_replayed_mentions_are_not_counted_twice():
    alerting, windows, incidents = make()
    n = feed_baseline(alerting, minutes=2)
    before = dict(newest(windows))
    assert alerting.on_mention("Acme", info(n - 1, T0 + 60 + 45)) == []
    assert newest(windows) == before


def test_keyword_and_influencer_alerts_open_once_then_update():
    config = AlertConfig.model_validate({"incidents": {"update_interval_s": 0}})
    alerting, _, incidents = make(config)
    first = alerting.on_mention("Acme", info(1, T0, label="negative", score=-0.9, influence=95, text="Boykot Acme nu!"))
    assert sorted(a.alert.rule for a in first if a.kind == "open") == ["crisis_keyword", "influential_critic"]
    second = alerting.on_mention("Acme", info(2, T0 + 5, label="negative", score=-0.8, influence=92, text="Jeg boykotter også Acme"))
    assert all(a.kind == "update" for a in second) and second
    ids = {a.alert.alert_id for a in first + second}
    assert len(ids) == 2  # one incident per rule, updated
    assert "Acme" in incidents


def test_state_survives_a_restart_through_its_tables():
    alerting, windows, incidents = make()
    n = feed_baseline(alerting)
    # a new BrandAlerting over the same tables = a restarted worker over restored tables
    restarted = BrandAlerting(windows, lambda: AlertConfig())
    actions = []
    for k in range(30):
        actions += restarted.on_mention("Acme", info(n + k, T0 + 40 * 60 + k))
    assert [a.alert.rule for a in actions if a.kind == "open"] == ["volume_spike"]


def test_backfill_is_not_counted_as_a_burst():
    alerting, windows, _ = make()
    n = feed_baseline(alerting)
    before = windows["Acme"]["windows"]
    for k in range(50):  # yesterday's mentions arriving now
        assert alerting.on_mention("Acme", info(n + k, T0 - 86_400 + k)) == []
    assert windows["Acme"]["windows"] == before
    assert windows["Acme"]["late"] == 50


def test_window_summary_net_sentiment():
    alerting, _, _ = make()
    alerting.on_mention("Acme", info(1, T0, label="positive", score=0.8))
    alerting.on_mention("Acme", info(2, T0 + 1, label="positive", score=0.8))
    alerting.on_mention("Acme", info(3, T0 + 2, label="negative", score=-0.8))
    summary = alerting.window_summary("Acme")
    assert summary["volume"] == 3
    assert abs(summary["net_sentiment"] - (2 - 1) / 3) < 1e-9


M0 = T0 - T0 % 60  # a minute boundary


def _burst_scenario():
    """40 quiet minutes at 3/min, then a 30-mention burst in minute 40, then 5 more quiet minutes."""
    mentions, n = [], 0
    for minute in range(46):
        per_minute = 33 if minute == 40 else 3
        for j in range(per_minute):
            mentions.append(info(n, M0 + minute * 60 + j * (59 / per_minute)))
            n += 1
    return mentions


def test_a_burst_delivered_out_of_order_is_counted_in_its_own_minute_and_alerts():
    # A backlog after a restart arrives partition by partition: later minutes before the burst itself.
    mentions = _burst_scenario()
    head = [m for m in mentions if m.published_at < M0 + 38 * 60]
    tail = [m for m in mentions if m not in head]
    shuffled = tail[:]
    random.Random(3).shuffle(shuffled)
    alerting, windows, _ = make()
    actions = []
    for m in head + shuffled:
        actions += alerting.on_mention("Acme", m)
    assert [a.alert.rule for a in actions if a.kind == "open"] == ["volume_spike"]
    state = BrandWindows.load(windows["Acme"], AlertConfig())
    assert state.windows[M0 + 40 * 60].volume == 33


def test_counts_and_baseline_do_not_depend_on_arrival_order_within_the_lateness():
    mentions = _burst_scenario()
    in_order, _, _ = make()
    for m in mentions:
        in_order.on_mention("Acme", m)
    shuffled_order, _, _ = make()
    rng = random.Random(5)
    # disorder of up to 5 minutes (less than the 10-minute allowed lateness)
    jittered = sorted(mentions, key=lambda m: m.published_at + rng.uniform(0, 300))
    for m in jittered:
        shuffled_order.on_mention("Acme", m)
    a = BrandWindows.load(in_order.states["Acme"], AlertConfig())
    b = BrandWindows.load(shuffled_order.states["Acme"], AlertConfig())
    assert {s: w.volume for s, w in a.windows.items()} == {s: w.volume for s, w in b.windows.items()}
    assert abs(a.baseline.volume_per_minute - b.baseline.volume_per_minute) < 1e-9
    assert a.baseline.windows == b.baseline.windows and a.late == b.late == 0


def test_windows_close_into_the_baseline_once_the_watermark_passes_the_lateness():
    config = AlertConfig.model_validate({"allowed_lateness_s": 120})
    alerting, windows, _ = make(config)
    alerting.on_mention("Acme", info(1, T0))
    alerting.on_mention("Acme", info(2, T0 + 60))
    assert len(windows["Acme"]["windows"]) == 2
    alerting.on_mention("Acme", info(3, T0 + 60 * 5))  # watermark 5 min on: the first two minutes close
    state = BrandWindows.load(windows["Acme"], config)
    assert len(state.windows) == 1 and state.baseline.windows >= 2
    # a mention for a closed minute is late: not counted anywhere, but remembered as late
    alerting.on_mention("Acme", info(4, T0 + 10))
    assert BrandWindows.load(windows["Acme"], config).late == 1


def test_the_lateness_does_not_delay_the_warm_up():
    # 32 observed minutes (warm-up 30) of which only ~22 are closed under the 10-minute lateness
    alerting, _, _ = make()
    n = feed_baseline(alerting, minutes=32)
    actions = []
    for k in range(30):
        actions += alerting.on_mention("Acme", info(n + k, T0 + 32 * 60 + k))
    assert [a.alert.rule for a in actions if a.kind == "open"] == ["volume_spike"]


def test_a_batch_gives_the_same_alerts_and_state_as_one_mention_at_a_time():
    mentions = _burst_scenario()
    one, one_windows, one_incidents = make()
    single = [a for m in mentions for a in one.on_mention("Acme", m)]
    batched, windows, incidents = make()
    actions = []
    for i in range(0, len(mentions), 25):
        got, pending = batched.evaluate_batch("Acme", mentions[i : i + 25] + mentions[max(0, i - 3) : i])  # with replays
        batched.commit(pending)
        actions += got
    assert [(a.kind, a.alert.alert_id) for a in actions] == [(a.kind, a.alert.alert_id) for a in single]
    assert windows == one_windows and incidents == one_incidents


def test_windows_and_incidents_are_one_value_so_a_restore_never_splits_them():
    alerting, states, _ = make()
    alerting.on_mention("Acme", info(1, T0, label="negative", score=-0.9, influence=95, text="Boykot Acme nu!"))
    (value,) = states.values()
    assert value["windows"] and value["incidents"]["incidents"]  # the counted mention and the incident it opened


def test_windows_detail_lists_every_open_window_with_the_ids_it_counted():
    alerting, _, _ = make()
    assert alerting.windows_detail("Acme") is None
    alerting.on_mention("Acme", info(1, M0 + 1, label="negative"))
    alerting.on_mention("Acme", info(2, M0 + 61, label="positive"))
    alerting.on_mention("Acme", info(3, M0 + 2, label="neutral"))  # late, but its window is still open
    alerting.on_mention("Acme", info(3, M0 + 2, label="neutral"))  # a replay: counted once
    detail = alerting.windows_detail("Acme")
    assert detail["late"] == 0 and list(detail["windows"]) == [repr(M0), repr(M0 + 60)]
    first, second = detail["windows"].values()
    assert first == {"volume": 2, "negative": 1, "neutral": 1, "positive": 0, "seen": ["m1", "m3"]}
    assert second == {"volume": 1, "negative": 0, "neutral": 0, "positive": 1, "seen": ["m2"]}
