"""BrandAlerting over plain dicts: the same code the worker runs over Faust tables."""

from streams.alerting.rules import AlertConfig, MentionInfo
from streams.state.brands import BrandAlerting

T0 = 1_700_000_000.0  # a minute boundary is not needed: windows align themselves


def info(i, at, label="neutral", text="hei", influence=10.0, score=0.0):
    return MentionInfo(id=f"m{i}", text=text, published_at=at, sentiment_label=label, sentiment_score=score, influence=influence, author=f"a{i}")


def make(config=None):
    windows, incidents = {}, {}
    config = config or AlertConfig()
    return BrandAlerting(windows, incidents, lambda: config), windows, incidents


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
    assert windows["Acme"]["window"]["volume"] == 30


def test_replayed_mentions_are_not_counted_twice():
    alerting, windows, incidents = make()
    n = feed_baseline(alerting, minutes=2)
    before = dict(windows["Acme"]["window"])
    assert alerting.on_mention("Acme", info(n - 1, T0 + 60 + 45)) == []
    assert windows["Acme"]["window"] == before


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
    restarted = BrandAlerting(windows, incidents, lambda: AlertConfig())
    actions = []
    for k in range(30):
        actions += restarted.on_mention("Acme", info(n + k, T0 + 40 * 60 + k))
    assert [a.alert.rule for a in actions if a.kind == "open"] == ["volume_spike"]


def test_backfill_is_not_counted_as_a_burst():
    alerting, windows, _ = make()
    n = feed_baseline(alerting)
    volume = windows["Acme"]["window"]["volume"]
    for k in range(50):  # yesterday's mentions arriving now
        assert alerting.on_mention("Acme", info(n + k, T0 - 86_400 + k)) == []
    assert windows["Acme"]["window"]["volume"] == volume


def test_window_summary_net_sentiment():
    alerting, _, _ = make()
    alerting.on_mention("Acme", info(1, T0, label="positive", score=0.8))
    alerting.on_mention("Acme", info(2, T0 + 1, label="positive", score=0.8))
    alerting.on_mention("Acme", info(3, T0 + 2, label="negative", score=-0.8))
    summary = alerting.window_summary("Acme")
    assert summary["volume"] == 3
    assert abs(summary["net_sentiment"] - (2 - 1) / 3) < 1e-9
