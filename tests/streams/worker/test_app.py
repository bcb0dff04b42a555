"""Pure helpers of the worker app (the agents themselves run in tests/integration)."""

from streams.worker.app import alert_version


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
    from streams.worker.app import delivered_version

    assert delivered_version(None) is None
    assert delivered_version([3, 1]) == alert_version({"action": "update", "updates": 3})
    assert delivered_version("open:0") == alert_version({"action": "open", "updates": 0})
    assert delivered_version("update:4") > alert_version({"action": "update", "updates": 2})
