"""Alert delivery: send an alert (``Alert.to_document()``, a JSON-safe dict) to people and machines.

Channels share one small interface, :class:`AlertChannel`: a ``name`` and ``async deliver(alert)``, which
returns when the alert was handed over and raises :class:`DeliveryError` (a clear, secret-free message)
when it could not be, after its retries. One module per concern:

* ``base``: the interface, :class:`DeliveryError`, :func:`deliver_all` / :class:`DeliveryResult`, the
  retry loop (under :class:`streams.sources.base.RetryPolicy`) and the shared rendering helpers
  (:func:`render_plain_text`, ...).
* ``webhook``: :class:`WebhookChannel`, a Slack-compatible POST (:func:`slack_payload`) whose URL is a
  secret (:func:`redact_url`, a log filter that redacts httpx's request line).
* ``email``: :class:`EmailChannel` (``smtplib`` in a worker thread), :func:`render_email`,
  :func:`email_subject`.
* ``console``: :class:`ConsoleChannel`, printing with rich (``lytter alerts --follow``, the demo).
* ``config``: :func:`channels_from_settings`, the channels ``streams.settings.Settings`` configure.

Text that comes from mentions (and everything else in the alert) is escaped for each medium: Slack
mrkdwn (``&``, ``<``, ``>``, so a mention cannot inject links or ``<!channel>``), HTML, and rich markup
(printed as literal text), so nobody on the internet can write into an alert's formatting.
"""

from __future__ import annotations

from streams.alerting.delivery.base import AlertChannel, DeliveryError, DeliveryResult, deliver_all, render_plain_text
from streams.alerting.delivery.config import channels_from_settings
from streams.alerting.delivery.console import ConsoleChannel
from streams.alerting.delivery.email import EmailChannel, email_subject, render_email
from streams.alerting.delivery.webhook import WebhookChannel, idempotency_key, redact_url, slack_escape, slack_payload

__all__ = [
    "AlertChannel",
    "ConsoleChannel",
    "DeliveryError",
    "DeliveryResult",
    "EmailChannel",
    "WebhookChannel",
    "channels_from_settings",
    "deliver_all",
    "idempotency_key",
    "email_subject",
    "redact_url",
    "render_email",
    "render_plain_text",
    "slack_escape",
    "slack_payload",
]
