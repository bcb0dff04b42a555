"""A brand's own time zone (watch file) decides its digest's days and hours; the setting is the default."""

from datetime import datetime, timezone

import pytest

from streams.digest import build
from streams.settings import Settings
from streams.watch import parse_watch

WATCH = parse_watch("brands:\n- name: Oslo AS\n  query: oslo\n  timezone: Europe/Helsinki\n- name: Other\n  query: other\n")


class Stop(Exception):
    pass


@pytest.mark.parametrize(("brand", "zone"), [("Oslo AS", "Europe/Helsinki"), ("Other", "Europe/Copenhagen"), (None, "Europe/Copenhagen")])
def test_the_period_is_in_the_brands_zone(monkeypatch, brand, zone):
    seen = {}

    def collect(client, settings, brand, brands, comparison, period):
        seen["zone"] = period.zone.key
        raise Stop

    monkeypatch.setattr(build, "collect", collect)
    monkeypatch.setattr(build, "sync_client", lambda settings: type("C", (), {"close": lambda self: None})())
    with pytest.raises(Stop):
        build.build_digest(Settings(), brand, "7d", now=datetime(2026, 12, 3, tzinfo=timezone.utc), watch=WATCH)
    assert seen["zone"] == zone
