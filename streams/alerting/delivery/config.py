"""Which channels the settings configure: :func:`channels_from_settings`.

``streams.settings.Settings`` is the only reader of the environment (``LYTTER_WEBHOOK_URL``,
``LYTTER_SMTP_*``, ...); this module only turns its fields into channels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from streams.alerting.delivery.base import AlertChannel
from streams.alerting.delivery.console import ConsoleChannel
from streams.alerting.delivery.email import EmailChannel, _split_recipients
from streams.alerting.delivery.webhook import WebhookChannel

if TYPE_CHECKING:
    from streams.settings import Settings


def _secret(value: Any) -> str:
    """A ``SecretStr`` setting's value, stripped ('' when unset)."""
    if value is None:
        return ""
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    return str(value).strip()


def _email_channel(settings: Settings, options: Mapping[str, Any] | None) -> EmailChannel:
    host = (settings.smtp_host or "").strip()
    sender = (settings.smtp_sender or "").strip()
    recipients = _split_recipients(settings.smtp_recipients or "")
    missing = [k for k, v in (("LYTTER_SMTP_SENDER", sender), ("LYTTER_SMTP_RECIPIENTS", recipients)) if not v]
    if missing:
        raise ValueError(f"LYTTER_SMTP_HOST is set but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not")
    starttls, use_ssl = bool(settings.smtp_starttls), bool(settings.smtp_ssl)
    port = settings.smtp_port if settings.smtp_port else (587 if starttls else 465 if use_ssl else 25)
    return EmailChannel(
        host,
        port,
        sender,
        recipients,
        username=(settings.smtp_username or "").strip() or None,
        password=_secret(settings.smtp_password) or None,
        starttls=starttls,
        use_ssl=use_ssl,
        **dict(options or {}),
    )


def channels_from_settings(
    settings: Settings,
    *,
    console: bool | Any = False,
    webhook_options: Mapping[str, Any] | None = None,
    email_options: Mapping[str, Any] | None = None,
) -> list[AlertChannel]:
    """The channels ``settings`` (a :class:`streams.settings.Settings`) configure.

    * ``webhook_url`` (``LYTTER_WEBHOOK_URL``) → :class:`WebhookChannel` with ``webhook_timeout`` seconds.
    * ``smtp_host`` (``LYTTER_SMTP_HOST``) → :class:`EmailChannel`, which then needs ``smtp_sender`` and
      ``smtp_recipients`` (comma separated); optional ``smtp_port`` (default 587 with STARTTLS, 465 with
      SSL, else 25), ``smtp_username``, ``smtp_password``, ``smtp_starttls`` and ``smtp_ssl``.
    * ``console=True`` (or a rich ``Console``) adds a :class:`ConsoleChannel`.

    ``webhook_options`` / ``email_options`` are passed on to the channel (``timeout`` in them wins over
    the setting). An unset or empty setting builds no channel; a half-configured e-mail raises
    ``ValueError`` naming what is missing (a silently missing alert channel is worse than a failed start).
    """
    channels: list[AlertChannel] = []
    if console is not False and console is not None:
        channels.append(ConsoleChannel(None if console is True else console))
    url = _secret(settings.webhook_url)
    if url:
        options = dict(webhook_options or {})
        options.setdefault("timeout", float(settings.webhook_timeout))
        channels.append(WebhookChannel(url, **options))
    if (settings.smtp_host or "").strip():
        channels.append(_email_channel(settings, email_options))
    return channels
