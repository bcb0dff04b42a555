"""The one error the local-services launcher raises: its message names the cause and the fix."""

from __future__ import annotations


class ServiceError(RuntimeError):
    """Starting, stopping or fetching the local Kafka / Elasticsearch failed; ``str(exc)`` says why and what to do."""
