"""Clients for the configured cluster, and what its refusals of us (401/403) or its outages mean."""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch, Elasticsearch
from elasticsearch import exceptions as es_exceptions

from streams.settings import Settings


def es_hosts(settings: Settings) -> list[str]:
    """The node URLs of ``es_url`` (comma-separated): the client spreads requests over them and moves off a
    node that stops answering, so losing the node the worker talked to is not an outage."""
    hosts = [url.strip() for url in settings.es_url.split(",") if url.strip()]
    if not hosts:
        raise ValueError("LYTTER_ES_URL is empty: give the Elasticsearch URL, or several separated by commas")
    return hosts


def client_options(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"hosts": es_hosts(settings), "request_timeout": settings.es_request_timeout}
    if settings.es_username and settings.es_password is not None:
        options["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    return options


def sync_client(settings: Settings) -> Elasticsearch:
    return Elasticsearch(**client_options(settings))


def async_client(settings: Settings) -> AsyncElasticsearch:
    return AsyncElasticsearch(**client_options(settings))


class ElasticsearchAccessError(RuntimeError):
    """The cluster answers but refuses us: missing or wrong credentials, or too few privileges."""


def access_problem(settings: Settings, exc: BaseException) -> str | None:
    """A message naming the setting to fix when ``exc`` is a refusal (401/403), else None."""
    if isinstance(exc, es_exceptions.AuthenticationException):
        if not settings.es_username or settings.es_password is None:
            return (
                f"Elasticsearch at {settings.es_url} requires a user and password (401): set LYTTER_ES_USERNAME and "
                "LYTTER_ES_PASSWORD (for the local services with --security: the `lytter` user of deploy/elasticsearch/roles.yml, see README \"Security\")."
            )
        return (
            f"Elasticsearch at {settings.es_url} refused user {settings.es_username!r} (401): check LYTTER_ES_PASSWORD "
            "(and LYTTER_ES_USERNAME)."
        )
    if isinstance(exc, es_exceptions.AuthorizationException):
        return (
            f"Elasticsearch at {settings.es_url} refused user {settings.es_username!r} the request (403): give it "
            "privileges on the lytter-* indices and index templates, or use another user (LYTTER_ES_USERNAME)."
        )
    return None


def check_access(settings: Settings) -> str | None:
    """The cluster's version, or None when it cannot be reached now (the worker then retries as in any
    outage). Raises ElasticsearchAccessError when it answers with a refusal: retrying cannot fix that."""
    client = sync_client(settings)
    try:
        return str(client.info()["version"]["number"])
    except (es_exceptions.AuthenticationException, es_exceptions.AuthorizationException) as exc:
        raise ElasticsearchAccessError(access_problem(settings, exc)) from None
    except (es_exceptions.TransportError, es_exceptions.ApiError):
        return None
    finally:
        client.close()


def is_retryable(exc: BaseException) -> bool:
    """True for errors that say the cluster is unreachable or overloaded, not that a document is bad."""
    if isinstance(exc, es_exceptions.TransportError):  # connection refused, timeouts, TLS
        return True
    if isinstance(exc, es_exceptions.ApiError):
        return exc.meta.status in (408, 429, 500, 502, 503, 504)
    return False
