"""Security end to end: Elasticsearch with security on, the password only in the environment.

A second Elasticsearch of the project's own (``lytter services up --security``: user ``elastic``, password
from ``LYTTER_ES_PASSWORD``) on a free port, next to the session's Kafka. The worker indexes through it,
``lytter search`` reads from it, hostile mention text comes back literally, the password appears in no
log or output, and a wrong or missing password is one clear error naming the setting.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pydantic import SecretStr

from streams.ops.kafka_admin import ensure_topics
from streams.schema import Mention
from streams.ops.services import LocalServices
from streams.sinks.elasticsearch import setup_indices
from streams.sources.replay.blogdump import parse_blog_dump
from streams.sources.producer import publish_all
from tests.integration.conftest import free_port
from tests.integration.helpers import dead_letters, indexed_count, start_or_fail, wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "deploy" / "demo" / "corpus"
HOSTILE = "[bold red]Boikott[/bold red] <script>alert('lytter')</script> title:* OR (\"unclosed AND NOT"


@pytest.fixture(scope="module")
def secure_es(services):
    password = "pw-" + secrets.token_urlsafe(18)
    es_port = free_port()
    settings = services.settings.model_copy(
        update=dict(
            services_dir=REPO / ".lytter" / "test-secure-e2e",
            es_port=es_port,
            es_url=f"http://127.0.0.1:{es_port}",
            es_username="elastic",
            es_password=SecretStr(password),
        )
    )
    launcher = LocalServices(settings, security=True)
    launcher.wipe()
    start_or_fail("Elasticsearch with security on", lambda: launcher.up(timeout=240, names=["elasticsearch"]))
    yield settings
    launcher.wipe()


def lytter_cli(settings, *args, **env_overrides) -> subprocess.CompletedProcess:
    env = {**os.environ, **settings.to_env(), "COLUMNS": "200", **env_overrides}
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args], capture_output=True, text=True, env=env, timeout=120, cwd=REPO
    )


def test_the_whole_path_works_with_security_on_and_keeps_the_secret(lytter, secure_es, worker_factory):
    settings = lytter.model_copy(
        update={k: getattr(secure_es, k) for k in ("es_port", "es_url", "es_username", "es_password")}
    )
    password = settings.es_password.get_secret_value()
    ensure_topics(settings)
    setup_indices(settings)
    mentions = []
    for path in sorted(CORPUS.glob("*.txt")):
        mentions += parse_blog_dump(path.read_text(), name=path.name, published_at=datetime(2010, 3, 3, tzinfo=timezone.utc))
    hostile = Mention(
        id="hostile-1",
        source="forum",
        url="https://example.invalid/t/1",
        text=HOSTILE,
        author={"handle": "<img src=x onerror=alert(1)>"},
        published_at="2026-11-23T08:00:00+00:00",
    )
    mentions.append(hostile)

    worker = worker_factory(settings)
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
    publish_all(settings, mentions)
    wait_for(lambda: indexed_count(settings) >= len(mentions), 180, "the corpus indexed on the secured cluster", worker)
    assert indexed_count(settings) == len(mentions) and dead_letters(settings) == []

    # the text is data: shown literally in the terminal table and in JSON, never as markup or query syntax
    table = lytter_cli(settings, "search", "boikott", "--size", "50")
    assert table.returncode == 0, table.stderr
    assert "[bold red]Boikott[/bold red]" in table.stdout and "<script>alert('lytter')</script>" in table.stdout, table.stdout
    lines = lytter_cli(settings, "search", "boikott", "--size", "50", "--json").stdout.splitlines()
    hit = next(doc for doc in map(json.loads, lines) if doc["id"] == "hostile-1")
    assert hit["text"] == HOSTILE

    # the secret is nowhere: not in the worker's log, not in what the CLI prints about its settings
    shown = lytter_cli(settings, "settings")
    assert shown.returncode == 0, shown.stderr
    for text in (worker.log_path.read_text(errors="replace"), table.stdout, table.stderr, shown.stdout, shown.stderr):
        assert password not in text

    # a wrong or missing password: one clear line naming the setting, no traceback, no secret
    wrong = lytter_cli(settings, "search", "boikott", LYTTER_ES_PASSWORD="not-the-password")
    assert wrong.returncode != 0 and "LYTTER_ES_PASSWORD" in wrong.stderr and "Traceback" not in wrong.stderr
    assert "not-the-password" not in wrong.stderr + wrong.stdout
    env_without = {k: v for k, v in settings.to_env().items() if k not in ("LYTTER_ES_USERNAME", "LYTTER_ES_PASSWORD")}
    missing = subprocess.run(
        [sys.executable, "-m", "streams.cli", "search", "boikott"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("LYTTER_ES_")} | env_without,
        timeout=120,
        cwd=REPO,
    )
    assert missing.returncode != 0 and "LYTTER_ES_USERNAME" in missing.stderr and "Traceback" not in missing.stderr
    refused_worker = lytter_cli(settings, "worker", LYTTER_ES_PASSWORD="not-the-password")
    assert refused_worker.returncode != 0 and "LYTTER_ES_PASSWORD" in refused_worker.stderr
    assert "Traceback" not in refused_worker.stderr and "not-the-password" not in refused_worker.stderr
