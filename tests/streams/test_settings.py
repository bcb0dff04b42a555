"""Settings: a bad LYTTER_* value is reported as the environment variable and the problem, not a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from streams.cli import app
from streams.settings import Settings, SettingsError


def test_bad_values_name_their_environment_variables(monkeypatch):
    monkeypatch.setenv("LYTTER_WORKER_BATCHES_IN_FLIGHT", "0")
    monkeypatch.setenv("LYTTER_WORKER_BATCH_SIZE", "many")
    with pytest.raises(SettingsError) as raised:
        Settings()
    message = str(raised.value)
    assert "setting LYTTER_WORKER_BATCHES_IN_FLIGHT='0': Input should be greater than or equal to 1" in message
    assert "setting LYTTER_WORKER_BATCH_SIZE='many'" in message and "valid integer" in message
    assert "lytter settings" in message  # where to look next


def test_a_secret_value_is_not_echoed():
    with pytest.raises(SettingsError) as raised:
        Settings(es_password=["not", "a", "string", "hunter2"])
    assert "LYTTER_ES_PASSWORD" in str(raised.value) and "hunter2" not in str(raised.value)


def test_the_cli_prints_one_line_and_exits_1(monkeypatch):
    monkeypatch.setenv("LYTTER_MODEL_LANES", "-1")
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 1
    assert "setting LYTTER_MODEL_LANES='-1'" in result.output
    assert "Traceback" not in result.output


def test_every_listener_binds_the_loopback_address_by_default():
    """Each address Lytter listens on is a setting, loopback by default (a new listener gets a test here)."""
    from streams.sources.base import is_loopback

    hosts = {name: field.default for name, field in Settings.model_fields.items() if name.endswith("_host") and name != "smtp_host"}
    assert set(hosts) >= {"push_host", "ingest_metrics_host", "web_host"}, hosts
    assert all(is_loopback(value) for value in hosts.values()), hosts
