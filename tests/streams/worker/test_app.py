"""The Faust application's listener: the worker's web endpoint (status pages, /metrics, unauthenticated)."""

from __future__ import annotations

from streams.settings import Settings
from streams.sources.base import is_loopback
from streams.worker.app import faust_app


def test_the_worker_web_endpoint_is_on_its_port_and_names_loopback():
    app = faust_app(Settings(worker_web_port=7071))
    assert app.conf.web_port == 7071 and app.conf.web_host == "127.0.0.1"


def test_the_worker_web_endpoint_binds_loopback_only():
    app = faust_app(Settings())
    assert is_loopback(app.conf.web_bind), app.conf.web_bind


def test_another_address_is_a_setting_and_is_warned_about(caplog):
    with caplog.at_level("WARNING", logger="lytter.worker"):
        app = faust_app(Settings(worker_web_host="0.0.0.0"))
    assert app.conf.web_bind == "0.0.0.0"
    assert "without authentication" in caplog.text and "LYTTER_WORKER_WEB_HOST" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="lytter.worker"):
        faust_app(Settings())
    assert "without authentication" not in caplog.text
