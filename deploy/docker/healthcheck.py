#!/usr/bin/env python3
"""Container health check of the Lytter image: ``lytter-healthcheck worker`` or ``lytter-healthcheck ingest``.

* ``worker``: the Faust worker's web endpoint answers ``GET /lytter/status/`` on
  ``LYTTER_WORKER_WEB_PORT`` (default 6066). The worker binds it to 127.0.0.1, which is why the check
  runs inside the container.
* ``ingest``: ``lytter ingest run`` serves Prometheus metrics on ``LYTTER_INGEST_METRICS_PORT``
  (default 9464); the check asks for ``/metrics``.
* ``URL``: any other argument is fetched as is.

Exit 0 when the answer is a 2xx, 1 otherwise (with the reason on stderr). Standard library only.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TARGETS = {
    "worker": ("LYTTER_WORKER_WEB_PORT", 6066, "/lytter/status/"),
    "ingest": ("LYTTER_INGEST_METRICS_PORT", 9464, "/metrics"),
}


def url_for(target: str) -> str:
    if target in TARGETS:
        variable, default, path = TARGETS[target]
        return f"http://127.0.0.1:{int(os.environ.get(variable) or default)}{path}"
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: lytter-healthcheck worker|ingest|URL", file=sys.stderr)
        return 2
    url = url_for(argv[0])
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            if 200 <= response.status < 300:
                return 0
            print(f"{url}: HTTP {response.status}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
