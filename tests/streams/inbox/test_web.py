"""`lytter web`'s guards without Elasticsearch: token, CSRF, headers, input checks, an outage."""

from __future__ import annotations

import elastic_transport
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from streams.inbox.queue import InboxError
from streams.inbox.web import WebConfigError, make_app, parse_action_request
from streams.settings import Settings

TOKEN = "s3cret-token-for-tests"


class DownElasticsearch:
    """Every call fails as a cluster that does not answer."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise elastic_transport.ConnectionError("connection refused")

        return fail


@pytest.fixture
async def client():
    settings = Settings(web_token=SecretStr(TOKEN), es_url="http://127.0.0.1:9")
    async with TestClient(TestServer(make_app(settings, client=DownElasticsearch()))) as test_client:
        yield test_client


async def test_without_the_token_everything_but_the_login_page_is_401(client):
    for path in ("/", "/api/queue", "/api/alerts", "/static/inbox.js", "/api/mentions/x"):
        assert (await client.get(path)).status == 401, path
    assert (await client.get("/login")).status == 200
    assert (await client.get("/api/queue", headers={"Authorization": "Bearer nope"})).status == 401


async def test_login_sets_a_strict_http_only_session_cookie(client):
    refused = await client.post("/api/login", json={"token": "wrong"})
    assert refused.status == 401 and "lytter_session" not in refused.cookies
    response = await client.post("/api/login", json={"token": TOKEN})
    assert response.status == 200
    cookie = response.cookies["lytter_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert (await client.get("/")).status == 200  # the client sends the cookie back


async def test_every_response_has_a_strict_content_security_policy(client):
    response = await client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_posts_must_be_json_and_from_this_origin(client):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    form = await client.post("/api/mentions/m/actions", data={"action": "handled"}, headers=auth)
    assert form.status == 415
    foreign = await client.post("/api/mentions/m/actions", json={"action": "handled", "version": "1:1"},
                                headers={**auth, "Origin": "https://evil.example"})
    assert foreign.status == 403


async def test_an_outage_is_a_503_with_what_to_check(client):
    response = await client.get("/api/queue", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 503
    assert "Elasticsearch at http://127.0.0.1:9" in (await response.json())["error"]


async def test_bad_query_parameters_are_400(client):
    response = await client.get("/api/queue?limit=lots", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 400 and "limit" in (await response.json())["error"]


@pytest.mark.parametrize("body,message", [
    ({"action": "handled"}, "'version' is required"),
    ({"action": "explode", "version": "1:1"}, "'action' must be one of"),
    ({"action": "handled", "version": "one"}, "seq_no"),
    ({"action": "handled", "version": "1:1", "admin": "yes"}, "unknown field"),
    ({"action": "assign", "version": "1:1", "to": ["a", "b"]}, "must be a string"),
    ({"action": "assign", "version": "1:1"}, "assignee"),
    ({"action": "handled", "version": "1:1", "as": "\x00"}, "control characters"),
])
def test_action_requests_are_checked_field_by_field(body, message):
    with pytest.raises(InboxError, match=message):
        parse_action_request(body, "web")


def test_an_action_request_names_who_acts():
    action, version, who = parse_action_request({"action": "note", "version": "7:2", "text": "ring op", "as": "dana"}, "web")
    assert (action.name, action.text, str(version), who) == ("note", "ring op", "7:2", "dana")


def test_refuses_a_public_address_without_a_token():
    with pytest.raises(WebConfigError, match="LYTTER_WEB_TOKEN"):
        make_app(Settings(web_host="0.0.0.0"), client=DownElasticsearch())
    make_app(Settings(web_host="0.0.0.0", web_token=SecretStr(TOKEN)), client=DownElasticsearch())
    make_app(Settings(web_host="::1"), client=DownElasticsearch())


async def test_without_a_token_only_loopback_host_names_are_served():
    async with TestClient(TestServer(make_app(Settings(), client=DownElasticsearch()))) as test_client:
        assert (await test_client.get("/login")).status == 200
        assert (await test_client.get("/login", headers={"Host": "localhost:8470"})).status == 200
        rebound = await test_client.get("/api/queue", headers={"Host": "evil.example:8470"})
        assert rebound.status == 421
