"""`streams.ops.kibana.import_objects` and `lytter kibana import` against a fake Kibana on 127.0.0.1.

The fake answers ``POST /api/saved_objects/_import`` (and ``/s/<space>/api/...``) the way Kibana 8.19
does, records each request, and can be told to refuse credentials, report per-object errors, or be
"still starting" (503) for the first requests.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from streams.ops.kibana import KibanaImportError, KibanaObjectsError, import_objects

NDJSON = Path(__file__).resolve().parents[2] / "deploy" / "kibana" / "lytter.ndjson"
N_OBJECTS = sum(1 for line in NDJSON.read_text(encoding="utf-8").splitlines() if line.strip())


class FakeKibana:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.mode = "ok"
        self.unavailable_first = 0
        self.credentials: tuple[str, str] | None = None  # when set, other credentials get 401
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, payload = fake.answer(self.path, self.headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str, headers, body: bytes):
        if not re.fullmatch(r"(/s/[a-z0-9_-]+)?/api/saved_objects/_import", urlsplit(path).path):
            return 404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"}
        if self.unavailable_first > 0:
            self.unavailable_first -= 1
            return 503, {"statusCode": 503, "error": "Service Unavailable", "message": "Kibana server is not ready yet"}
        if headers.get("kbn-xsrf") is None:
            return 400, {"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."}
        if self.credentials is not None:
            expected = "Basic " + base64.b64encode(":".join(self.credentials).encode()).decode()
            if headers.get("Authorization") != expected:
                return 401, {"statusCode": 401, "error": "Unauthorized", "message": "[security_exception]: unable to authenticate user"}
        objects = [json.loads(line) for line in _multipart_file(headers, body)[1].decode().splitlines() if line.strip()]
        if self.mode == "partial":
            failed = objects[2:4]
            return 200, {
                "success": False,
                "successCount": len(objects) - 2,
                "errors": [
                    {
                        "id": failed[0]["id"], "type": failed[0]["type"], "title": failed[0]["attributes"]["title"],
                        "meta": {"title": failed[0]["attributes"]["title"], "icon": "lensApp"},
                        "error": {"type": "missing_references", "references": [{"type": "index-pattern", "id": "lytter-mentions"}]},
                    },
                    {
                        "id": failed[1]["id"], "type": failed[1]["type"], "meta": {"title": failed[1]["attributes"]["title"]},
                        "error": {"type": "unknown", "message": "mapper_parsing_exception", "statusCode": 400},
                    },
                ],
            }
        return 200, {
            "success": True,
            "successCount": len(objects),
            "successResults": [{"type": o["type"], "id": o["id"], "meta": {"title": o["attributes"].get("title")}} for o in objects],
        }

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _multipart_file(headers, body: bytes) -> tuple[str, bytes, str]:
    """(filename, content, content type) of the form field ``file`` in a multipart/form-data body."""
    content_type = headers.get("Content-Type") or headers.get("content-type")
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    assert message.is_multipart(), content_type
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return part.get_filename(), part.get_payload(decode=True), part.get_content_type()
    raise AssertionError("no form field named 'file'")


@pytest.fixture
def kibana():
    with FakeKibana() as fake:
        yield fake


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_import_uploads_the_file_as_multipart_with_kbn_xsrf(kibana):
    result = import_objects(kibana.url, NDJSON)
    assert result.success and result.success_count == N_OBJECTS and not result.errors
    (request,) = kibana.requests
    url = urlsplit(request["path"])
    assert url.path == "/api/saved_objects/_import"
    assert parse_qs(url.query) == {"overwrite": ["true"]}
    assert request["headers"]["kbn-xsrf"] == "true"
    assert request["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert "Authorization" not in request["headers"]
    filename, content, content_type = _multipart_file(request["headers"], request["body"])
    assert filename == "lytter.ndjson"  # Kibana refuses files not named *.ndjson
    assert content == NDJSON.read_bytes()
    assert content_type == "application/ndjson"


def test_import_with_credentials_space_and_no_overwrite(kibana):
    kibana.credentials = ("elastic", "s3cret")
    import_objects(kibana.url + "/", NDJSON, username="elastic", password="s3cret", space="analytics", overwrite=False)
    (request,) = kibana.requests
    url = urlsplit(request["path"])
    assert url.path == "/s/analytics/api/saved_objects/_import"
    assert parse_qs(url.query) == {"overwrite": ["false"]}
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"elastic:s3cret").decode()


def test_default_space_uses_the_plain_path(kibana):
    import_objects(kibana.url, NDJSON, space="default")
    assert urlsplit(kibana.requests[0]["path"]).path == "/api/saved_objects/_import"


def test_401_is_a_clear_error_without_the_password(kibana):
    kibana.credentials = ("elastic", "right")
    with pytest.raises(KibanaImportError) as info:
        import_objects(kibana.url, NDJSON, username="elastic", password="wrong-password")
    message = str(info.value)
    assert "401" in message and "elastic" in message and "LYTTER_KIBANA_PASSWORD" in message
    assert "wrong-password" not in message


def test_failed_objects_are_listed_one_by_one(kibana):
    kibana.mode = "partial"
    with pytest.raises(KibanaImportError) as info:
        import_objects(kibana.url, NDJSON)
    message = str(info.value)
    assert f"imported {N_OBJECTS - 2} of {N_OBJECTS} objects" in message
    lines = [line.strip() for line in message.splitlines()[1:]]
    assert len(lines) == 2
    assert lines[0].startswith("lens/lytter-volume-by-brand (Mentions over time by brand): missing_references: missing index-pattern/lytter-mentions")
    assert lines[1].startswith("lens/lytter-share-of-voice (Share of voice): unknown: mapper_parsing_exception")
    result = info.value.result
    assert result is not None and not result.success and [e.id for e in result.errors] == ["lytter-volume-by-brand", "lytter-share-of-voice"]


def test_unreachable_kibana():
    port = _closed_port()
    with pytest.raises(KibanaImportError, match=rf"Kibana does not answer at http://127.0.0.1:{port}"):
        import_objects(f"http://127.0.0.1:{port}", NDJSON)


def test_not_kibana_404(kibana):
    with pytest.raises(KibanaImportError, match="404"):
        import_objects(kibana.url + "/not-kibana", NDJSON)


def test_waits_while_kibana_is_starting(kibana):
    kibana.unavailable_first = 2
    result = import_objects(kibana.url, NDJSON, wait=30)
    assert result.success and len(kibana.requests) == 3


def test_503_without_wait_says_so(kibana):
    kibana.unavailable_first = 1
    with pytest.raises(KibanaImportError, match="not ready.*--wait"):
        import_objects(kibana.url, NDJSON)


def test_a_broken_file_is_refused_before_sending(kibana, tmp_path):
    bad = tmp_path / "bad.ndjson"
    bad.write_text("{oops\n", encoding="utf-8")
    with pytest.raises(KibanaObjectsError, match="bad.ndjson:1"):
        import_objects(kibana.url, bad)
    assert kibana.requests == []


def test_cli_import_reads_the_password_from_the_environment(kibana):
    from streams.cli import app

    kibana.credentials = ("elastic", "from-env")
    runner = CliRunner()
    result = runner.invoke(app, ["kibana", "import", "--url", kibana.url, "--user", "elastic"], env={"LYTTER_KIBANA_PASSWORD": "from-env"})
    assert result.exit_code == 0, result.output
    assert f"imported {N_OBJECTS} objects" in result.output
    assert kibana.requests[-1]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"elastic:from-env").decode()

    result = runner.invoke(app, ["kibana", "import", "--url", kibana.url, "--user", "elastic"], env={"LYTTER_KIBANA_PASSWORD": "nope"})
    assert result.exit_code == 1
    assert "401" in result.output


def test_cli_import_unreachable_exits_1():
    from streams.cli import app

    result = CliRunner().invoke(app, ["kibana", "import", "--url", f"http://127.0.0.1:{_closed_port()}"])
    assert result.exit_code == 1
    assert "does not answer" in result.output
