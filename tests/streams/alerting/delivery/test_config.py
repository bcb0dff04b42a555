"""channels_from_settings: the channels a ``Settings`` configures (Settings is the only reader of the environment)."""

from __future__ import annotations

import pytest

from streams.alerting.delivery import EmailChannel, WebhookChannel, channels_from_settings
from streams.settings import Settings
from tests.streams.alerting.delivery.conftest import PASSWORD, TOKEN

FIELDS = {
    "webhook_url": f"https://hooks.slack.com/services/T1/B2/{TOKEN}",
    "smtp_host": "smtp.example",
    "smtp_sender": "lytter@example.com",
    "smtp_recipients": "a@example.com, b@example.com,",
    "smtp_username": "lytter",
    "smtp_password": PASSWORD,
    "smtp_starttls": True,
}


def test_channels_from_settings(clean_env):
    assert channels_from_settings(Settings()) == []
    assert channels_from_settings(Settings(webhook_url="", smtp_host="")) == []  # empty is unset
    webhook, mail = channels_from_settings(Settings(**FIELDS))
    assert isinstance(webhook, WebhookChannel) and isinstance(mail, EmailChannel)
    assert mail.port == 587 and mail.starttls and mail.recipients == ["a@example.com", "b@example.com"]
    assert mail.username == "lytter" and mail._password == PASSWORD
    assert PASSWORD not in repr(mail) and TOKEN not in repr(webhook)
    only_mail = channels_from_settings(Settings(**{k: v for k, v in FIELDS.items() if k != "webhook_url"}, smtp_port=2525), console=True)
    assert [type(c).__name__ for c in only_mail] == ["ConsoleChannel", "EmailChannel"] and only_mail[1].port == 2525
    with pytest.raises(ValueError, match="LYTTER_SMTP_RECIPIENTS"):
        channels_from_settings(Settings(smtp_host="smtp.example", smtp_sender="x@example.com"))
    with pytest.raises(ValueError, match="LYTTER_SMTP_STARTTLS"):  # Settings itself rejects a bad bool
        channels_from_settings(Settings(**FIELDS | {"smtp_starttls": "maybe"}))


def test_channels_from_settings_ports_timeout_and_options(clean_env):
    (plain,) = channels_from_settings(Settings(smtp_host="smtp.example", smtp_sender="x@example.com", smtp_recipients="a@example.com"))
    assert plain.port == 25 and not plain.starttls and not plain.use_ssl and plain.username is None
    (implicit,) = channels_from_settings(Settings(smtp_host="smtp.example", smtp_sender="x@example.com", smtp_recipients="a@example.com", smtp_ssl=True))
    assert implicit.port == 465 and implicit.use_ssl
    with pytest.raises(ValueError, match="LYTTER_SMTP_SENDER and LYTTER_SMTP_RECIPIENTS are not"):
        channels_from_settings(Settings(smtp_host="smtp.example"))
    (webhook,) = channels_from_settings(Settings(webhook_url=FIELDS["webhook_url"], webhook_timeout=2.5))
    assert webhook.timeout == 2.5
    (webhook,) = channels_from_settings(Settings(webhook_url=FIELDS["webhook_url"]), webhook_options={"timeout": 1.0, "max_attempts": 2})
    assert webhook.timeout == 1.0 and webhook.policy.max_attempts == 2
    (mail,) = channels_from_settings(Settings(**{k: v for k, v in FIELDS.items() if k != "webhook_url"}), email_options={"max_attempts": 1})
    assert mail.policy.max_attempts == 1


def test_channels_come_from_the_environment_through_settings(clean_env, monkeypatch):
    monkeypatch.setenv("LYTTER_WEBHOOK_URL", FIELDS["webhook_url"])
    monkeypatch.setenv("LYTTER_WEBHOOK_TIMEOUT", "3")
    monkeypatch.setenv("LYTTER_SMTP_HOST", "smtp.example")
    monkeypatch.setenv("LYTTER_SMTP_SENDER", "lytter@example.com")
    monkeypatch.setenv("LYTTER_SMTP_RECIPIENTS", "a@example.com")
    monkeypatch.setenv("LYTTER_SMTP_STARTTLS", "yes")
    webhook, mail = channels_from_settings(Settings())
    assert webhook.timeout == 3.0 and mail.port == 587 and mail.starttls
