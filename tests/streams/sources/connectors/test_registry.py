"""The connector registry: every row is known to the watch file, to build_connectors and to `lytter ingest`."""

from __future__ import annotations

import pytest
import yaml
from typer.testing import CliRunner

from streams.cli import app
from streams.sources.config import ConnectorConfigError, ConnectorsConfig, build_connectors, load_connectors, parse_connectors
from streams.sources.connectors import REGISTRY, CliRun, ConnectorConf, ConnectorSpec

NAMES = list(REGISTRY)


def _example_entries(name: str) -> list:
    section = yaml.safe_load(REGISTRY[name].example)
    assert list(section) == [name], f"the example of {name!r} is one `{name}:` section"
    return section[name]


def _set_secrets(monkeypatch, entries: list) -> None:
    for entry in entries:
        for key, value in (entry.items() if isinstance(entry, dict) else ()):
            if key.endswith("_env") and isinstance(value, str):
                monkeypatch.setenv(value, "test-secret")


def test_the_registry_has_the_sources():
    assert {"rss", "mastodon", "reddit", "bluesky"} <= set(NAMES)
    assert "push" not in REGISTRY  # the push endpoint is not a connector


@pytest.mark.parametrize("name", NAMES)
def test_every_row_has_a_conf_model_a_builder_and_a_command(name):
    spec = REGISTRY[name]
    assert isinstance(spec, ConnectorSpec)
    assert issubclass(spec.conf, ConnectorConf)
    assert callable(spec.build) and callable(spec.command)
    assert spec.help.strip() and (spec.command.__doc__ or "").strip()


def test_the_watch_model_has_one_section_per_row_and_push():
    assert list(ConnectorsConfig.model_fields) == [*NAMES, "push"]
    assert parse_connectors({}).is_empty()


@pytest.mark.parametrize("name", NAMES)
def test_every_row_is_accepted_by_the_watch_file_and_built(name, tmp_path, monkeypatch):
    entries = _example_entries(name)
    _set_secrets(monkeypatch, entries)
    path = tmp_path / "watch.yaml"
    path.write_text(yaml.safe_dump({"brands": [{"name": "Lego", "query": "lego*"}], "connectors": {name: entries}}))
    config = load_connectors(path)
    parsed = config.entries(name)
    assert len(parsed) == len(entries) and all(isinstance(e, REGISTRY[name].conf) for e in parsed)
    assert not config.is_empty()
    connectors = build_connectors(config)
    assert connectors and {c.kind for c in connectors} == {name}
    assert [c.source_id for c in REGISTRY[name].build(parsed, where=f"connectors.{name}")] == [c.source_id for c in connectors]


@pytest.mark.parametrize("name", NAMES)
def test_a_row_refuses_unknown_fields_with_its_location(name):
    entry = {**_example_entries(name)[0], "no_such_field": 1}
    with pytest.raises(ConnectorConfigError) as info:
        parse_connectors({name: [entry]})
    assert f"connectors.{name}[0].no_such_field: Extra inputs are not permitted" in str(info.value)


runner = CliRunner()


def test_ingest_help_lists_every_registry_row():
    result = runner.invoke(app, ["ingest", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    listed = {line.strip("│ ").split(" ", 1)[0] for line in result.output.splitlines()}
    for name in NAMES:
        assert name in listed, (name, result.output)


@pytest.mark.parametrize("name", NAMES)
def test_every_row_has_an_ingest_command_with_its_help(name):
    result = runner.invoke(app, ["ingest", name, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    first_line = (REGISTRY[name].command.__doc__ or "").strip().splitlines()[0]
    assert first_line.split()[0] in result.output


def test_ingest_run_help_shows_every_rows_example_and_kind():
    result = runner.invoke(app, ["ingest", "run", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in NAMES:
        assert f"{name}:" in result.output and name in result.output


def test_a_command_returns_a_lazy_cli_run():
    from streams.sources.connectors.rss import RssConf, rss_command

    request = rss_command(urls=["https://blog.example/feed"], follow=False, interval=300.0, comments=True, max_pages=10, source="blog")
    assert isinstance(request, CliRun) and request.once
    (entry,) = request.entries()
    assert isinstance(entry, RssConf) and entry.url == "https://blog.example/feed"
