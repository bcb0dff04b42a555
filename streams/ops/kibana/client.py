"""Importing the saved objects into a Kibana: ``POST {url}/api/saved_objects/_import`` (multipart upload, header
``kbn-xsrf: true``), every failure turned into one clear message."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import httpx

from streams.ops.kibana.objects import load_objects


class KibanaImportError(RuntimeError):
    """Kibana could not be reached, refused the request, or did not import every object."""

    def __init__(self, message: str, result: "ImportResult | None" = None) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class ObjectError:
    type: str
    id: str
    title: str
    error: str
    detail: str

    def __str__(self) -> str:
        title = f" ({self.title})" if self.title else ""
        return f"{self.type}/{self.id}{title}: {self.error}" + (f": {self.detail}" if self.detail else "")


@dataclass
class ImportResult:
    url: str
    success: bool
    success_count: int
    errors: list[ObjectError]
    results: list[dict[str, Any]]


def import_url(url: str, space: str | None = None) -> str:
    base = url.rstrip("/")
    if space and space != "default":
        base += f"/s/{space}"
    return f"{base}/api/saved_objects/_import"


def _object_error(item: Mapping[str, Any]) -> ObjectError:
    error = item.get("error") or {}
    kind = str(error.get("type", "error"))
    detail = ""
    if kind == "missing_references":
        refs = error.get("references") or []
        detail = "missing " + ", ".join(f"{r.get('type')}/{r.get('id')}" for r in refs)
    elif kind == "conflict":
        detail = "an object with this id exists (import with overwrite)"
        if error.get("destinationId"):
            detail += f"; destination {error['destinationId']}"
    elif kind == "ambiguous_conflict":
        detail = "several objects match: " + ", ".join(str(d.get("id")) for d in error.get("destinations") or [])
    elif kind == "unsupported_type":
        detail = "this Kibana does not know the type (a plugin disabled, or too old a Kibana)"
    else:
        detail = str(error.get("message") or error.get("reason") or "")
    title = str(item.get("title") or (item.get("meta") or {}).get("title") or "")
    return ObjectError(str(item.get("type")), str(item.get("id")), title, kind, detail)


def _response_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    if isinstance(body, Mapping):
        return str(body.get("message") or body.get("error") or body)[:300]
    return str(body)[:300]


def import_objects(
    url: str,
    ndjson_path: Path | str,
    username: str | None = None,
    password: str | None = None,
    space: str | None = None,
    overwrite: bool = True,
    *,
    timeout: float = 60.0,
    wait: float = 0.0,
    transport: httpx.BaseTransport | None = None,
) -> ImportResult:
    """Import an NDJSON file with Kibana's saved-objects import API.

    ``wait``: seconds to keep retrying while Kibana is unreachable or answers 503 (starting up).
    Returns the result when Kibana imported every object; raises ``KibanaImportError`` otherwise, with
    one line per object that failed (its type, id, title and reason).
    """
    path = Path(ndjson_path)
    objects = load_objects(path)  # a broken file is refused here, not by Kibana
    content = path.read_bytes()
    endpoint = import_url(url, space)
    auth = (username, password or "") if username else None
    filename = path.name if path.name.endswith(".ndjson") else f"{path.stem}.ndjson"  # Kibana checks the extension
    deadline = time.monotonic() + max(0.0, wait)
    with httpx.Client(timeout=timeout, auth=auth, transport=transport) as client:
        response = _post_until_answered(
            client,
            url,
            endpoint,
            params={"overwrite": "true" if overwrite else "false"},
            files={"file": (filename, content, "application/ndjson")},
            deadline=deadline,
        )
    _raise_for_status(response, url, endpoint, username, space)
    return _import_result(response, url, len(objects))


def _post_until_answered(
    client: httpx.Client, url: str, endpoint: str, *, params: dict[str, str], files: dict[str, Any], deadline: float
) -> httpx.Response:
    """POST the upload; while ``deadline`` is ahead, retry (backing off) when Kibana is unreachable or answers 503."""
    delay = 1.0
    while True:
        try:
            response = client.post(endpoint, params=params, headers={"kbn-xsrf": "true"}, files=files)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.RemoteProtocolError) as exc:
            if time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            raise KibanaImportError(
                f"Kibana does not answer at {url} ({type(exc).__name__}: {exc}). Is it running and is the URL right "
                "(--url, LYTTER_KIBANA_URL)? With docker compose: `docker compose ps kibana`."
            ) from None
        except httpx.HTTPError as exc:
            raise KibanaImportError(f"the request to {endpoint} failed: {type(exc).__name__}: {exc}") from None
        if response.status_code == 503 and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
            continue
        return response


def _raise_for_status(response: httpx.Response, url: str, endpoint: str, username: str | None, space: str | None) -> None:
    """One clear message for each way Kibana can refuse the request as a whole."""
    status = response.status_code
    if status == 401:
        who = f"user {username!r}" if username else "no credentials"
        raise KibanaImportError(
            f"Kibana at {url} refused the request with 401 Unauthorized ({who}). Give a user with --user and its "
            "password with --password or LYTTER_KIBANA_PASSWORD."
        )
    if status == 403:
        raise KibanaImportError(f"Kibana at {url} answered 403 Forbidden: user {username!r} may not import saved objects ({_response_message(response)})")
    if status == 404:
        raise KibanaImportError(
            f"{endpoint} answered 404: no saved-objects import API there. Is {url} a Kibana"
            + (f", and does the space {space!r} exist?" if space else "?")
        )
    if status == 503:
        raise KibanaImportError(f"Kibana at {url} is not ready (503 Service Unavailable); try again, or pass --wait SECONDS")
    if status >= 400:
        raise KibanaImportError(f"Kibana at {url} refused the import with {status}: {_response_message(response)}")


def _import_result(response: httpx.Response, url: str, sent: int) -> ImportResult:
    """The result of an accepted request; raises when Kibana did not import every one of the ``sent`` objects."""
    try:
        body = response.json()
    except ValueError:
        raise KibanaImportError(f"Kibana at {url} answered {response.status_code} with something that is not JSON: {response.text[:200]!r}") from None
    errors = [_object_error(item) for item in body.get("errors") or []]
    result = ImportResult(
        url=url,
        success=bool(body.get("success")) and not errors,
        success_count=int(body.get("successCount", 0)),
        errors=errors,
        results=list(body.get("successResults") or []),
    )
    if not result.success:
        lines = "\n".join(f"  {e}" for e in errors) or "  (Kibana gave no details)"
        raise KibanaImportError(
            f"Kibana imported {result.success_count} of {sent} objects; these failed:\n{lines}", result
        )
    return result
