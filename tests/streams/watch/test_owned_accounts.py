from pathlib import Path

import pytest

from streams.watch import WatchConfigError, load_watch, parse_watch
from streams.watch.file import normalise_handle

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "watch.example.yaml"

WATCH = """brands:
- name: Nordlys
  query: nordlys
  owned_accounts:
    bluesky: ["@Nordlys.bsky.social", "did:plc:nordlys"]
    mastodon: ["@Nordlys@Mastodon.Social"]
    reddit: [u/NordlysEnergi]
  reply: {target_minutes: 60, by_source: {bluesky: 30, reddit: 240}, by_severity: {critical: 15, info: 120}}
- name: Fjordbank
  query: fjordbank
  owned_accounts: {mastodon: [fjordbank@bank.social]}
"""


@pytest.mark.parametrize(
    ("source", "handle", "expected"),
    [
        ("mastodon", "@User@Instance.Social", "user@instance.social"),
        ("mastodon", "user@instance.social", "user@instance.social"),
        ("bluesky", "@Name.bsky.social", "name.bsky.social"),
        ("reddit", "/u/Name_1", "name_1"),
        ("reddit", "u/Name_1", "name_1"),
        ("blog", "  Kundeservice ", "kundeservice"),
    ],
)
def test_handles_are_normalised(source, handle, expected):
    assert normalise_handle(source, handle) == expected


def test_owner_of_accepts_every_spelling():
    watch = parse_watch(WATCH)
    assert watch.owner_of("bluesky", "nordlys.bsky.social") == "Nordlys"
    assert watch.owner_of("bluesky", "did:plc:nordlys") == "Nordlys"
    assert watch.owner_of("mastodon", "nordlys@mastodon.social") == "Nordlys"
    assert watch.owner_of("mastodon", "@NORDLYS") == "Nordlys"  # a bare user, owned by one brand only
    assert watch.owner_of("reddit", "NordlysEnergi") == "Nordlys"
    assert watch.owner_of("reddit", "nordlys.bsky.social") is None  # accounts are per source
    assert watch.owner_of("mastodon", "nordlys@other.social") is None
    assert watch.owner_of("bluesky", None) is None


def test_a_bare_mastodon_user_owned_on_two_instances_is_ambiguous():
    text = "brands:\n- {name: A, query: a, owned_accounts: {mastodon: [help@a.social]}}\n- {name: B, query: b, owned_accounts: {mastodon: [help@b.social]}}\n"
    watch = parse_watch(text)
    assert watch.owner_of("mastodon", "help") is None
    assert watch.owner_of("mastodon", "help@b.social") == "B"


@pytest.mark.parametrize(
    ("severity", "source", "expected"),
    [
        (None, "bluesky", 30.0),
        ("critical", "bluesky", 15.0),  # the stricter of source and severity
        ("info", "bluesky", 30.0),
        ("info", "reddit", 120.0),
        ("warning", "mastodon", 60.0),  # neither: the brand's target
    ],
)
def test_reply_target_per_source_and_severity(severity, source, expected):
    assert parse_watch(WATCH).reply_target("Nordlys", source, severity) == expected


def test_reply_target_defaults_to_the_setting(monkeypatch):
    from streams.settings import get_settings

    watch = parse_watch(WATCH)
    assert watch.reply_target("Fjordbank", "mastodon", "critical", default_minutes=45) == 45
    monkeypatch.setenv("LYTTER_REPLY_TARGET_MINUTES", "25")
    get_settings.cache_clear()
    try:
        assert watch.reply_target("Fjordbank", "mastodon") == 25.0
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("fragment", "line", "message"),
    [
        ("owned_accounts: {twitter: [x]}", "w.yaml:4: brands[0].owned_accounts: unknown source ['twitter']", "bluesky"),
        ("owned_accounts: {reddit: ['  ']}", "w.yaml:4: brands[0].owned_accounts: reddit: an empty handle", "handle"),
        ("owned_accounts: {mastodon: ['@help']}", "w.yaml:4: brands[0].owned_accounts: mastodon: '@help' needs its instance", "@help@mastodon.social"),
        ("reply: {by_source: {tiktok: 5}}", "w.yaml:4: brands[0].reply.by_source: unknown source ['tiktok']", "bluesky"),
        ("reply: {by_severity: {urgent: 5}}", "w.yaml:4: brands[0].reply.by_severity: unknown severity ['urgent']", "critical"),
        ("reply: {target_minutes: 0}", "w.yaml:4: brands[0].reply.target_minutes:", "greater than 0"),
    ],
)
def test_bad_owned_accounts_and_targets_name_line_and_field(fragment, line, message):
    with pytest.raises(WatchConfigError) as info:
        parse_watch(f"brands:\n- name: A\n  query: a\n  {fragment}\n", "w.yaml")
    assert str(info.value).startswith(line)
    assert message in str(info.value)


def test_an_account_owned_by_two_brands_names_the_second_line():
    copy = "- name: Copy\n  query: copy\n  owned_accounts:\n    bluesky:\n      - x.bsky.social\n      - '@NORDLYS.bsky.social'\n"
    with pytest.raises(WatchConfigError) as info:
        parse_watch(WATCH + copy, "w.yaml")
    assert str(info.value) == (
        "w.yaml:17: brands[2].owned_accounts.bluesky[1]: bluesky account 'nordlys.bsky.social' is owned by both "
        "'Nordlys' and 'Copy'; keep it under one brand"
    )


def test_the_example_watch_lists_owned_accounts_and_targets():
    watch = load_watch(EXAMPLE)
    assert watch.owner_of("bluesky", "@nordlysenergi.bsky.social") == "Nordlys Energi"
    assert watch.owner_of("mastodon", "@nordlysenergi") == "Nordlys Energi"  # as the demo scenario tags it
    assert watch.reply_target("Nordlys Energi", "bluesky", "critical") == 15.0
    assert all(brand.owned_accounts for brand in watch.brands[:4])


def test_a_brands_time_zone_is_checked_with_its_line():
    from streams.watch import WatchConfigError, parse_watch

    assert parse_watch("brands:\n- name: A\n  query: a\n  timezone: Europe/Oslo\n").brands[0].timezone == "Europe/Oslo"
    with pytest.raises(WatchConfigError, match=r"w.yaml:4: brands\[0\].timezone: 'Europe/Olso' is not a time zone"):
        parse_watch("brands:\n- name: A\n  query: a\n  timezone: Europe/Olso\n", "w.yaml")
