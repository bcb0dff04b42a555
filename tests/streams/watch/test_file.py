import os
import time
from pathlib import Path

import pytest

from streams.schema import EnrichedMention, Mention
from streams.processing.brands import BrandMatcher
from streams.watch import WatchConfigError, WatchFile, load_watch, parse_watch

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "watch.example.yaml"


def test_example_watch_is_valid():
    watch = load_watch(EXAMPLE)
    assert "Nordlys Energi" in [b.name for b in watch.brands]
    assert watch.alerts.volume_spike.min_count == 10
    assert "boykot*" in watch.alerts.crisis_keyword.keywords["da"]


def test_bad_query_names_line_field_and_column():
    text = "brands:\n  - name: Lego\n    query: lego\n  - name: Carlsberg\n    query: '(carlsberg OR tuborg'\n"
    with pytest.raises(WatchConfigError) as info:
        parse_watch(text, "watch.yaml")
    message = str(info.value)
    assert message.startswith("watch.yaml:5: brands[1].query:")
    assert "column" in message


def test_unknown_field_and_wrong_type_are_named():
    text = "brands:\n  - name: Lego\n    query: lego\n    colour: red\nalerts:\n  volume_spike:\n    min_count: many\n"
    with pytest.raises(WatchConfigError) as info:
        parse_watch(text, "w.yaml")
    lines = str(info.value).splitlines()
    assert any(line.startswith("w.yaml:4: brands[0].colour:") for line in lines)
    assert any(line.startswith("w.yaml:7: alerts.volume_spike.min_count:") for line in lines)


def test_duplicate_brands_and_unknown_competitors_are_refused():
    with pytest.raises(WatchConfigError, match="repeated"):
        parse_watch("brands:\n- {name: A, query: a}\n- {name: A, query: b}\n")
    with pytest.raises(WatchConfigError, match="not brands in this file"):
        parse_watch("brands:\n- {name: A, query: a, competitors: [B]}\n")


def test_invalid_yaml_names_the_line():
    with pytest.raises(WatchConfigError, match=r"^w.yaml:3: not valid YAML"):
        parse_watch("brands:\n  - name: a\n   query: [\n", "w.yaml")


def _enriched(text, lang="da", author=None):
    mention = Mention(id="m", source="test", text=text, published_at="2026-11-23T08:00:00Z", author=author)
    return EnrichedMention(mention=mention, lang=lang, lang_confidence=1.0)


def test_brand_matcher_uses_nordic_equivalences_and_scopes(tmp_path):
    path = tmp_path / "watch.yaml"
    path.write_text("brands:\n- {name: Smørbageriet, query: 'smørbager*'}\n- {name: DSB, query: 'dsb AND lang:da'}\n")
    matcher = BrandMatcher(WatchFile(path))
    items = [_enriched("Smörbageriet i Malmö är bäst", lang="sv"), _enriched("DSB er forsinket igen"), _enriched("DSB is late", lang="en")]
    matcher.enrich(items)
    assert [i.brands for i in items] == [["Smørbageriet"], ["DSB"], []]


def test_watch_file_reloads_and_keeps_last_valid_on_broken_edit(tmp_path):
    path = tmp_path / "watch.yaml"
    path.write_text("brands:\n- {name: A, query: alpha}\n")
    watch_file = WatchFile(path)
    assert [b.name for b in watch_file.current().brands] == ["A"]
    path.write_text("brands:\n- {name: B, query: beta}\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert [b.name for b in watch_file.current().brands] == ["B"]
    path.write_text("brands:\n- {name: C, query: '(gamma'}\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 2_000_000))
    assert [b.name for b in watch_file.current().brands] == ["B"]
    assert "brands[0].query" in watch_file.last_error


def test_missing_watch_file_says_which_setting():
    with pytest.raises(WatchConfigError, match="LYTTER_WATCH_FILE"):
        load_watch(Path("/nonexistent/watch.yaml"))


def test_example_watch_matches_the_demo_scenario_brands():
    """The demo replays the scenario against the example watch: their brand queries must agree."""
    from streams.sources.replay.scenario import Scenario

    watch = load_watch(EXAMPLE)
    ours = {b.name: b.query for b in watch.brands}
    for brand in Scenario().watch_config()["brands"]:
        assert ours[brand["name"]] == brand["query"]
