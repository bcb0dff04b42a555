"""Security end to end: Elasticsearch with security on, Lytter as a least-privilege user, the password only in
the environment.

A second Elasticsearch of the project's own (``lytter services up --security``) on a free port, next to the
session's Kafka. Lytter logs in as the file-realm user ``lytter`` with the role ``lytter`` of
``deploy/elasticsearch/roles.yml`` (renamed for this test's indices); the ``elastic`` superuser only sets up
what the refusal checks need. The worker indexes through it, the CLI (``search``, ``status``, ``es setup``,
``es count``, ``es rollover``, ``es retention``, ``inbox``, ``alerts``, ``digest``) works with it, the ingest
agents do not need it at all, hostile mention text comes back literally, the password appears in no log or
output, a wrong or missing password is one clear error naming the setting, and everything outside Lytter's
own indices (another index, cluster settings, users and roles) is refused.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from elasticsearch import exceptions as es_exceptions
from pydantic import SecretStr

from streams.ops.kafka_admin import ensure_topics
from streams.ops.services import LocalServices
from streams.schema import Mention
from streams.sinks.elasticsearch import setup_indices, sync_client
from streams.sources.replay.blogdump import parse_blog_dump
from tests.integration.conftest import free_port
from tests.integration.helpers import dead_letters, indexed_count, start_or_fail, wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "deploy" / "demo" / "corpus"
HOSTILE = "[bold red]Boikott[/bold red] <script>alert('lytter')</script> title:* OR (\"unclosed AND NOT"
ES_FIELDS = ("es_port", "es_url", "es_username", "es_password", "es_index_prefix", "es_alerts_index")


@pytest.fixture(scope="module")
def secure_es(services):
    """The secured node: Lytter's user ``lytter`` (role ``lytter``) and a superuser password for the checks."""
    suffix = uuid.uuid4().hex[:8]
    es_port = free_port()
    base = Path(services.settings.services_dir)
    settings = services.settings.model_copy(
        update=dict(
            services_dir=base.with_name(base.name + "-secure"),
            es_port=es_port,
            es_url=f"http://127.0.0.1:{es_port}",
            es_username="lytter",
            es_password=SecretStr("pw-" + secrets.token_urlsafe(18)),
            es_superuser_password=SecretStr("su-" + secrets.token_urlsafe(18)),
            es_index_prefix=f"sec-{suffix}-mentions",
            es_alerts_index=f"sec-{suffix}-alerts",
        )
    )
    launcher = LocalServices(settings, security=True)
    launcher.wipe()
    start_or_fail("Elasticsearch with security on", lambda: launcher.up(timeout=300, names=["elasticsearch"]))
    yield settings
    launcher.wipe()


@pytest.fixture(scope="module")
def superuser(secure_es):
    client = Elasticsearch(secure_es.es_url, basic_auth=("elastic", secure_es.es_superuser_password.get_secret_value()), request_timeout=30)
    yield client
    client.close()


def lytter_cli(settings, *args, **env_overrides) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LYTTER_")}, **settings.to_env(), "COLUMNS": "200", **env_overrides}
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args], capture_output=True, text=True, env=env, timeout=120, cwd=REPO
    )


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"{result.args[3:]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_the_whole_path_works_as_the_lytter_user_and_keeps_the_secret(lytter, secure_es, worker_factory, tmp_path):
    # what the worker and the CLI get: the least-privilege user, never the superuser's password
    settings = lytter.model_copy(update={k: getattr(secure_es, k) for k in ES_FIELDS} | {"es_superuser_password": None})
    password = settings.es_password.get_secret_value()
    ensure_topics(settings)
    assert "template" in ok(lytter_cli(settings, "es", "setup")).stdout
    mentions = []
    for path in sorted(CORPUS.glob("*.txt")):
        mentions += parse_blog_dump(path.read_text(), name=path.name, published_at=datetime(2010, 3, 3, tzinfo=timezone.utc))
    hostile = Mention(
        id="hostile-1",
        source="forum",
        url="https://example.invalid/t/1",
        text=HOSTILE,
        author={"handle": "<img src=x onerror=alert(1)>"},
        published_at=datetime.now(timezone.utc) - timedelta(days=3),
    )
    mentions.append(hostile)
    jsonl = tmp_path / "mentions.jsonl"
    jsonl.write_text("".join(m.model_dump_json() + "\n" for m in mentions))

    worker = worker_factory(settings)
    wait_for(lambda: "worker ready" in worker.log_tail(400), 120, "worker ready", worker)
    # the ingest agents publish to Kafka only: they run without any Elasticsearch credentials
    ok(lytter_cli(settings, "ingest", "jsonl", str(jsonl), LYTTER_ES_USERNAME="", LYTTER_ES_PASSWORD="not-the-password"))
    wait_for(lambda: indexed_count(settings) >= len(mentions), 180, "the corpus indexed on the secured cluster", worker)
    assert indexed_count(settings) == len(mentions) and dead_letters(settings) == []

    # the text is data: shown literally in the terminal table and in JSON, never as markup or query syntax
    table = ok(lytter_cli(settings, "search", "boikott", "--size", "50"))
    assert "[bold red]Boikott[/bold red]" in table.stdout and "<script>alert('lytter')</script>" in table.stdout, table.stdout
    lines = ok(lytter_cli(settings, "search", "boikott", "--size", "50", "--json")).stdout.splitlines()
    hit = next(doc for doc in map(json.loads, lines) if doc["id"] == "hostile-1")
    assert hit["text"] == HOSTILE

    # the rest of the CLI, as the same user
    status = json.loads(ok(lytter_cli(settings, "status", "--json")).stdout)
    assert status["elasticsearch"]["ok"] and f"mentions indexed: {len(mentions)}" in status["elasticsearch"]["detail"], status
    assert str(len(mentions)) in ok(lytter_cli(settings, "es", "count")).stdout
    ok(lytter_cli(settings, "inbox", "list"))
    ok(lytter_cli(settings, "inbox", "note", "hostile-1", "checked by the security test", "--as", "tester"))
    assert "checked by the security test" in ok(lytter_cli(settings, "inbox", "show", "hostile-1")).stdout
    ok(lytter_cli(settings, "alerts", "--limit", "5"))
    ok(lytter_cli(settings, "digest", "--since", "30d", "--out", str(tmp_path / "digest.html")))
    assert (tmp_path / "digest.html").stat().st_size > 0
    rolled = ok(lytter_cli(settings, "es", "rollover", "--max-docs", "1")).stdout
    assert f"{settings.es_index_prefix}-000002" in rolled, rolled
    ok(lytter_cli(settings, "es", "setup"))  # again: the mapping update of existing indices (put mapping)
    retention = ok(lytter_cli(settings, "es", "retention", "--keep", "1d")).stdout
    assert f"{settings.es_index_prefix}-000001" in retention, retention  # its newest mention is 3 days old

    # the secret is nowhere: not in the worker's log, not in what the CLI prints about its settings
    shown = ok(lytter_cli(settings, "settings"))
    for text in (worker.log_path.read_text(errors="replace"), table.stdout, table.stderr, shown.stdout, shown.stderr, rolled, retention):
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
        env={k: v for k, v in os.environ.items() if not k.startswith("LYTTER_")} | env_without,
        timeout=120,
        cwd=REPO,
    )
    assert missing.returncode != 0 and "LYTTER_ES_USERNAME" in missing.stderr and "Traceback" not in missing.stderr
    refused_worker = lytter_cli(settings, "worker", LYTTER_ES_PASSWORD="not-the-password")
    assert refused_worker.returncode != 0 and "LYTTER_ES_PASSWORD" in refused_worker.stderr
    assert "Traceback" not in refused_worker.stderr and "not-the-password" not in refused_worker.stderr


def test_the_lytter_user_is_refused_outside_its_indices(secure_es, superuser):
    settings = secure_es.model_copy(update={"es_superuser_password": None})
    superuser.index(index="other-index", id="secret-1", document={"text": "not Lytter's"}, refresh="wait_for")
    setup_indices(settings)
    client = sync_client(settings)
    try:
        refusals = {
            "search other-index": lambda: client.search(index="other-index"),
            "get a document of other-index": lambda: client.get(index="other-index", id="secret-1"),
            "write to other-index": lambda: client.index(index="other-index", id="x", document={"text": "overwritten"}),
            "delete other-index": lambda: client.indices.delete(index="other-index"),
            "create another index": lambda: client.indices.create(index="other-new"),
            "delete the alerts index": lambda: client.indices.delete(index=settings.es_alerts_index),
            "put cluster settings": lambda: client.cluster.put_settings(persistent={"cluster.routing.allocation.enable": "none"}),
            "create a user": lambda: client.security.put_user(username="intruder", password="intruder-pw", roles=["superuser"]),
            "change the settings of other-index": lambda: client.indices.put_settings(index="other-index", settings={"index.number_of_replicas": 0}),
            "close its own index": lambda: client.indices.close(index=f"{settings.es_index_prefix}-*"),
            "add a snapshot repository": lambda: client.snapshot.create_repository(name="r", repository={"type": "fs", "settings": {"location": "/tmp/r"}}),
        }
        refused = {}
        for what, call in refusals.items():
            with pytest.raises(es_exceptions.AuthorizationException) as info:
                call()
            refused[what] = info.value.meta.status
        assert set(refused.values()) == {403}, refused
        # a search over every index sees Lytter's own only
        assert all(hit["_index"].startswith("sec-") for hit in client.search(index="*", size=100)["hits"]["hits"])
        assert client.cluster.health()["status"] in ("green", "yellow")  # what it may do still works
    finally:
        client.close()
    assert superuser.get(index="other-index", id="secret-1")["_source"] == {"text": "not Lytter's"}
    assert not superuser.indices.exists(index="other-new")
    assert superuser.cluster.get_settings()["persistent"] == {}
