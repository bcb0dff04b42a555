"""The `connectors:` section of the watch file and the `lytter ingest` connector commands' help and errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from streams.cli import app
from streams.sources.config import ConnectorConfigError, build_connectors, load_connectors, parse_connectors

WATCH = """\
brands:
  - name: Lego
    query: 'lego*'
connectors:
  rss:
    - url: https://blog.example.dk/feed/
      interval_s: 600
    - https://nyheder.example.no/rss
  mastodon:
    - instance: mastodon.social
      hashtags: ["#lego", legogroup]
      search: ["lego group"]
      stream: true
      token_env: LYTTER_TEST_MASTODON_TOKEN
  reddit:
    - subreddits: [denmark, r/norge]
      search: [lego]
      restrict_search: true
  bluesky:
    - keywords: [lego]
  push: {enabled: true, max_batch: 200}
"""


def test_a_full_connectors_section_builds_one_connector_per_source(tmp_path, monkeypatch):
    monkeypatch.setenv("LYTTER_TEST_MASTODON_TOKEN", "tok")
    path = tmp_path / "watch.yaml"
    path.write_text(WATCH)
    config = load_connectors(path)
    assert config.rss[0].interval_s == 600 and config.rss[1].url == "https://nyheder.example.no/rss"
    assert config.mastodon[0].instance == "https://mastodon.social" and config.mastodon[0].hashtags == ["lego", "legogroup"]
    assert config.push.enabled and config.push.max_batch == 200
    ids = [c.source_id for c in build_connectors(config)]
    assert ids == [
        "rss:https://blog.example.dk/feed/",
        "rss:https://nyheder.example.no/rss",
        "mastodon:mastodon.social:tag:lego",
        "mastodon:mastodon.social:tag:legogroup",
        "mastodon:mastodon.social:search:lego group",
        "reddit:r/denmark:new",
        "reddit:r/denmark:comments",
        "reddit:r/norge:new",
        "reddit:r/norge:comments",
        "reddit:search:lego:r/denmark+norge",
        "bluesky:jetstream2.us-east.bsky.network:lego",
    ]
    connectors = build_connectors(config)
    assert connectors[2].limiter is connectors[4].limiter  # one rate budget per instance
    assert connectors[2].streaming and not connectors[4].streaming  # streaming is for hashtags


def test_errors_name_the_file_line_and_field(tmp_path):
    path = tmp_path / "watch.yaml"
    path.write_text(WATCH.replace("interval_s: 600", "interval_s: often").replace("hashtags: [\"#lego\", legogroup]", "hashtags: lego"))
    with pytest.raises(ConnectorConfigError) as info:
        load_connectors(path)
    lines = str(info.value).splitlines()
    assert f"{path}:7: connectors.rss[0].interval_s: Input should be a valid number" in lines[0]
    assert f"{path}:11: connectors.mastodon[0].hashtags: Input should be a valid list" in lines[1]


@pytest.mark.parametrize(
    "section, message",
    [
        ({"rss": [{"url": "ftp://x/feed"}]}, "connectors.rss[0].url: 'ftp://x/feed' is not an absolute http/https URL"),
        ({"mastodon": [{"instance": "m.example"}]}, "connectors.mastodon[0]: give hashtags or search"),
        ({"mastodon": [{"instance": "m.example", "hashtags": ["two words"]}]}, "hashtags are single words"),
        ({"reddit": [{"subreddits": ["denmark"], "client_id_env": "X"}]}, "needs both client_id_env and client_secret_env"),
        ({"reddit": [{"search": ["x"], "restrict_search": True}]}, "restrict_search needs subreddits"),
        ({"bluesky": [{"keywords": []}]}, "connectors.bluesky[0].keywords: List should have at least 1 item"),
        ({"bluesky": [{"keywords": ["x"], "jetstream_url": "https://x"}]}, "not an absolute ws/wss URL"),
        ({"mastodon": [{"instance": "m.example", "hashtags": ["x"], "token_env": "abc-def"}]}, "not an environment variable name"),
        ({"twitter": []}, "connectors.twitter: Extra inputs are not permitted"),
    ],
)
def test_invalid_settings_are_refused_with_the_field(section, message):
    with pytest.raises(ConnectorConfigError, match=None) as info:
        parse_connectors(section)
    assert message in str(info.value)


def test_secrets_come_from_the_environment_and_a_missing_one_is_named(monkeypatch):
    config = parse_connectors({"mastodon": [{"instance": "m.example", "hashtags": ["x"], "token_env": "LYTTER_TEST_MASTODON_TOKEN"}]})
    monkeypatch.delenv("LYTTER_TEST_MASTODON_TOKEN", raising=False)
    with pytest.raises(ConnectorConfigError, match="connectors.mastodon\\[0\\].token_env: the environment variable LYTTER_TEST_MASTODON_TOKEN is not set"):
        build_connectors(config)
    monkeypatch.setenv("LYTTER_TEST_MASTODON_TOKEN", "tok")
    (connector,) = build_connectors(config)
    assert connector._headers["Authorization"] == "Bearer tok" and "tok" not in repr(connector)


runner = CliRunner()


@pytest.mark.parametrize(
    "command, words",
    [
        (["ingest", "run", "--help"], ["--once", "connectors:", "mastodon", "LYTTER_INGEST_METRICS_PORT"]),
        (["ingest", "rss", "--help"], ["--follow", "comment", "GUID"]),
        (["ingest", "mastodon", "--help"], ["--tag", "--search", "--stream", "Link"]),
        (["ingest", "reddit", "--help"], ["--subreddit", "X-Ratelimit", "--client-id-env"]),
        (["ingest", "bluesky", "--help"], ["Jetstream", "--once", "cursor"]),
        (["ingest", "push", "--help"], ["POST /mentions", "LYTTER_PUSH_TOKEN", "422", "413"]),
    ],
)
def test_every_connector_command_explains_itself(command, words):
    result = runner.invoke(app, command, terminal_width=200)
    assert result.exit_code == 0, result.output
    for word in words:
        assert word in result.output, (word, result.output)


def test_commands_refuse_bad_arguments_before_touching_kafka(tmp_path, monkeypatch):
    result = runner.invoke(app, ["ingest", "rss", "ftp://nope"], terminal_width=200)
    assert result.exit_code == 1 and "is not an absolute http/https URL" in result.output
    result = runner.invoke(app, ["ingest", "mastodon", "m.example"], terminal_width=200)
    assert result.exit_code == 1 and "give hashtags or search" in result.output
    path = tmp_path / "watch.yaml"
    path.write_text("connectors:\n  rss: [{url: 12}]\n")
    result = runner.invoke(app, ["ingest", "run", "--once", "--watch-file", str(path)], terminal_width=200)
    assert result.exit_code == 1 and f"{path}:2: connectors.rss[0].url: Input should be a valid string" in " ".join(result.output.split())

    from streams.settings import get_settings

    monkeypatch.delenv("LYTTER_PUSH_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["ingest", "push"], terminal_width=200)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "LYTTER_PUSH_TOKEN" in result.output
