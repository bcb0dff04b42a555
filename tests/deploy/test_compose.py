"""docker-compose.yml and deploy/Dockerfile, checked without a Docker engine.

* docker-compose.yml validates against the Compose Specification's JSON schema (vendored from a registry
  package: see compose-spec.schema.SOURCE.md);
* every ``LYTTER_*`` variable it sets exists as a setting (``Settings.model_fields``) or as the
  environment variable of a CLI option, and the environment of each Lytter service parses as Settings;
* every command it runs in the Lytter image is a real ``lytter`` sub-command with real options;
* image versions and ports agree with the settings' defaults;
* the Dockerfile: base image, the project installed, a real CLI command as ENTRYPOINT + CMD.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import importlib.util
import json
import os
import re
import shlex
import socket
import threading
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
import typer
import yaml
from typer.testing import CliRunner

from streams.cli import app
from streams.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
SCHEMA = Path(__file__).resolve().parent / "compose-spec.schema.json"
SCHEMA_SHA256 = "46b7d35f19dd93a05f8fea530291bf84d881c1791ec167ecf0e6fb94e639d496"  # dclint 3.1.0 (npm)
LYTTER_IMAGE = re.compile(r"^lytter(:|$)")

DEFAULTS = {name: field.default for name, field in Settings.model_fields.items()}


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[^}]+)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value: Any, env: dict[str, str] | None = None) -> Any:
    """Compose interpolation with ``env`` (default: empty, so defaults apply): $$, $VAR, ${VAR}, ${VAR:-x}, ${VAR-x}."""
    env = env or {}
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        expr = match.group("braced") or match.group("plain")
        for op in (":-", "-", ":?", "?"):
            if op in expr:
                name, default = expr.split(op, 1)
                if op.endswith("?"):
                    if not env.get(name):
                        raise AssertionError(f"${{{expr}}}: required variable {name} not set")
                    return env[name]
                if op == ":-":
                    return env.get(name) or default
                return env.get(name, default)
        return env.get(expr, "")

    return _VARIABLE.sub(replace, value)


def variables_used(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from variables_used(k)
            yield from variables_used(v)
    elif isinstance(value, list):
        for v in value:
            yield from variables_used(v)
    elif isinstance(value, str):
        for match in _VARIABLE.finditer(value):
            expr = match.group("braced") or match.group("plain")
            if expr:
                yield re.split(r":?[-?]", expr, maxsplit=1)[0]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    with COMPOSE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def services(compose) -> dict[str, Any]:
    return interpolate(compose["services"])


def lytter_services(services) -> dict[str, Any]:
    return {name: s for name, s in services.items() if LYTTER_IMAGE.match(s.get("image", ""))}


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def cli_envvars() -> set[str]:
    """Environment variables the CLI's options read (typer ``envvar=``)."""
    found: set[str] = set()

    def walk(command) -> None:
        for param in command.params:
            envvar = getattr(param, "envvar", None)
            if envvar:
                found.update([envvar] if isinstance(envvar, str) else envvar)
        if isinstance(getattr(command, "commands", None), dict):  # a group (typer vendors its own click)
            for sub in command.commands.values():
                walk(sub)

    walk(typer.main.get_command(app))
    return found


def cli_has(path: list[str]) -> bool:
    command = typer.main.get_command(app)
    for name in path:
        if not isinstance(getattr(command, "commands", None), dict) or name not in command.commands:
            return False
        command = command.commands[name]
    return True


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    buffer = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, rest = buffer.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        buffer = ""
    return instructions


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENV":
            for token in shlex.split(rest):
                if "=" in token:
                    name, value = token.split("=", 1)
                    env[name] = value
    return env


# ------------------------------------------------------------------------------------------------
# the Compose specification
# ------------------------------------------------------------------------------------------------


def test_vendored_schema_is_the_registry_file():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256


def _jsonschema():
    import jsonschema  # a dev dependency: a missing one fails the test, it does not skip it

    return jsonschema


def test_compose_file_matches_the_compose_specification(compose):
    jsonschema = _jsonschema()
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_catches_mistakes(compose):
    """The validation is not vacuous: typical mistakes fail it."""
    jsonschema = _jsonschema()
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    broken = json.loads(json.dumps(compose))
    broken["services"]["worker"]["depends_on"]["kafka"]["condition"] = "service_ready"
    broken["services"]["kafka"]["healthcheck"]["intervall"] = "10s"
    broken["services"]["ingest"]["ports"] = "8090:8090"
    messages = [e.message for e in validator.iter_errors(broken)]
    assert len(messages) >= 3, messages


def test_interpolation_helper():
    assert interpolate("${A:-x}") == "x" and interpolate("${A:-x}", {"A": "y"}) == "y"
    assert interpolate("${A-x}", {"A": ""}) == "" and interpolate("$${B}") == "${B}"
    assert sorted(variables_used({"k": "${A:-1} $B $${C}"})) == ["A", "B"]


# ------------------------------------------------------------------------------------------------
# environment and settings
# ------------------------------------------------------------------------------------------------


def test_lytter_variables_exist(compose, services):
    known = {f"LYTTER_{name.upper()}" for name in Settings.model_fields} | cli_envvars()
    assert "LYTTER_KIBANA_PASSWORD" in known  # the import command's --password
    used = set()
    for service in services.values():
        used |= {name for name in env_of(service) if name.startswith("LYTTER_")}
    used |= {name for name in variables_used(compose) if name.startswith("LYTTER_")}
    used -= {"LYTTER_IMAGE_TAG"}  # the image tag, a Compose variable only
    unknown = sorted(used - known)
    assert not unknown, f"not settings nor CLI variables: {unknown}"
    dockerfile_names = {name for name in dockerfile_env() if name.startswith("LYTTER_")}
    assert dockerfile_names <= known, sorted(dockerfile_names - known)
    assert {"LYTTER_KAFKA_BOOTSTRAP", "LYTTER_ES_URL", "LYTTER_ES_USERNAME", "LYTTER_ES_PASSWORD", "LYTTER_WATCH_FILE", "LYTTER_WEBHOOK_URL"} <= used


@pytest.mark.parametrize(
    "variables",
    [{}, {"ES_SECURITY": "true", "ELASTIC_PASSWORD": "su-pw", "LYTTER_ES_PASSWORD": "pw", "LYTTER_WEBHOOK_URL": "https://hooks.example/x"}],
    ids=["defaults", "configured"],
)
def test_each_lytter_service_environment_parses_as_settings(compose, monkeypatch, variables):
    image_env = dockerfile_env()
    for name, service in lytter_services(interpolate(compose["services"], variables)).items():
        for key in [k for k in os.environ if k.startswith("LYTTER_")]:
            monkeypatch.delenv(key)
        for key, value in {**image_env, **env_of(service)}.items():
            monkeypatch.setenv(key, value)
        settings = Settings()  # raises if a value does not parse (e.g. an empty string for a number)
        assert settings.kafka_bootstrap == "kafka:19092", name
        assert urlsplit(settings.es_url).hostname == "elasticsearch", name
        assert str(settings.watch_file).startswith("/etc/lytter/watch/"), name
        assert str(settings.model_path) == "/opt/lytter/model", name
        assert settings.es_username == "lytter", name  # the least-privilege user, never the superuser
        assert settings.es_superuser_password is None, name
        if variables:
            assert settings.es_password.get_secret_value() == "pw"
            assert settings.webhook_url.get_secret_value() == "https://hooks.example/x"


def test_watch_file_is_mounted_where_the_setting_points(services):
    for name, service in lytter_services(services).items():
        env = env_of(service)
        mounts = [v for v in service.get("volumes", []) if isinstance(v, str) and v.split(":")[1] == "/etc/lytter/watch"]
        assert mounts, f"{name}: the brand-watch directory is not mounted"
        source = mounts[0].split(":")[0]
        file_name = env["LYTTER_WATCH_FILE"].removeprefix("/etc/lytter/watch/")
        assert (REPO / source / file_name).is_file(), f"{name}: {source}/{file_name} does not exist"


# ------------------------------------------------------------------------------------------------
# commands
# ------------------------------------------------------------------------------------------------


def _lytter_commands(services) -> list[tuple[str, list[str]]]:
    commands = []
    for name, service in lytter_services(services).items():
        command = service.get("command")
        assert isinstance(command, list) and command, f"{name}: give the command as a list"
        commands.append((name, command))
    return commands


def test_every_lytter_command_is_a_real_cli_command(services):
    runner = CliRunner()
    commands = _lytter_commands(services)
    seen = set()
    for name, command in commands:
        path = [token for token in command if not token.startswith("-")][:2]
        seen.add(command[0])
        # --help after the real arguments: unknown sub-commands or options fail before help is shown
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, f"{name}: `lytter {' '.join(command)}` is not a valid command:\n{result.output}"
        assert cli_has(path[: 2 if path[0] in ("es", "kibana", "ingest") else 1])
    assert {"worker", "es", "kibana", "ingest"} <= seen


def test_one_shot_commands(services):
    assert services["lytter-setup"]["command"] == ["es", "setup"]
    command = services["kibana-setup"]["command"]
    assert command[:4] == ["kibana", "import", "--url", "http://kibana:5601"]
    assert services["worker"]["command"] == ["worker"]
    assert services["ingest"]["command"] == ["ingest", "run"]


# ------------------------------------------------------------------------------------------------
# images, ports, dependencies
# ------------------------------------------------------------------------------------------------


def _image(services, name: str) -> tuple[str, str]:
    repository, _, tag = services[name]["image"].rpartition(":")
    return repository, tag


def test_image_versions_agree_with_settings(services):
    assert _image(services, "kafka") == ("apache/kafka", DEFAULTS["kafka_version"])
    es_repo, es_tag = _image(services, "elasticsearch")
    kibana_repo, kibana_tag = _image(services, "kibana")
    assert es_repo == "docker.elastic.co/elasticsearch/elasticsearch"
    assert kibana_repo == "docker.elastic.co/kibana/kibana"
    assert es_tag == kibana_tag, "Kibana must be the same version as Elasticsearch"
    assert es_tag.split(".")[:2] == DEFAULTS["es_version"].split(".")[:2] == ["8", "19"]
    assert _image(services, "es-security")[1] == es_tag


def _published(service) -> dict[int, tuple[str, int]]:
    """container port -> (host ip, host port)"""
    out = {}
    for spec in service.get("ports", []):
        parts = str(spec).split(":")
        ip, host, container = (parts if len(parts) == 3 else ["0.0.0.0", *parts])
        out[int(container)] = (ip, int(host))
    return out


def test_ports_agree_with_settings(services):
    kafka = services["kafka"]
    kafka_env = env_of(kafka)
    assert _published(kafka)[DEFAULTS["kafka_port"]] == ("127.0.0.1", DEFAULTS["kafka_port"])
    listeners = dict(item.split("://") for item in kafka_env["KAFKA_LISTENERS"].split(","))
    advertised = dict(item.split("://") for item in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert listeners["CONTROLLER"] == f":{DEFAULTS['kafka_controller_port']}"
    assert kafka_env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"1@kafka:{DEFAULTS['kafka_controller_port']}"
    assert advertised["EXTERNAL"] == f"localhost:{DEFAULTS['kafka_port']}"  # so the default 127.0.0.1:9092 works from the host
    assert listeners["EXTERNAL"] == f":{DEFAULTS['kafka_port']}"
    assert DEFAULTS["kafka_bootstrap"].endswith(f":{DEFAULTS['kafka_port']}")
    for name, service in lytter_services(services).items():
        env = env_of(service)
        assert env["LYTTER_KAFKA_BOOTSTRAP"] == advertised["INTERNAL"], name
        assert listeners["INTERNAL"] == ":" + advertised["INTERNAL"].split(":")[1]
        es = urlsplit(env["LYTTER_ES_URL"])
        assert (es.hostname, es.port) == ("elasticsearch", DEFAULTS["es_port"]), name
    assert _published(services["elasticsearch"])[DEFAULTS["es_port"]] == ("127.0.0.1", DEFAULTS["es_port"])
    assert DEFAULTS["es_url"].endswith(f":{DEFAULTS['es_port']}")
    assert services["worker"]["expose"] == [str(DEFAULTS["worker_web_port"])]
    ingest = services["ingest"]
    assert _published(ingest) == {
        DEFAULTS["push_port"]: ("127.0.0.1", DEFAULTS["push_port"]),
        DEFAULTS["ingest_metrics_port"]: ("127.0.0.1", DEFAULTS["ingest_metrics_port"]),
    }
    assert env_of(ingest)["LYTTER_PUSH_PORT"] == str(DEFAULTS["push_port"])
    assert env_of(ingest)["LYTTER_INGEST_METRICS_PORT"] == str(DEFAULTS["ingest_metrics_port"])
    assert env_of(ingest)["LYTTER_PUSH_HOST"] == "0.0.0.0"  # reachable through the published port
    assert 5601 in _published(services["kibana"])
    for service in services.values():
        for ip, _ in _published(service).values():
            assert ip == "127.0.0.1", "publish on the loopback address only"


def test_kafka_cluster_id_is_a_kraft_uuid(services):
    cluster_id = env_of(services["kafka"])["CLUSTER_ID"]
    assert len(cluster_id) == 22 and len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    assert env_of(services["kafka"])["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_dependencies_healthchecks_and_volumes(compose, services):
    one_shots = {name for name, s in services.items() if s.get("restart") == "no"}
    assert one_shots == {"es-security", "lytter-setup", "kibana-setup"}
    for name, service in services.items():
        if name not in one_shots:
            assert "healthcheck" in service, f"{name}: a long-running service needs a healthcheck"
        for target, spec in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = spec["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy, which has no healthcheck"
            elif condition == "service_completed_successfully":
                assert target in one_shots, f"{name} waits for {target} to complete, which is not a one-shot"
            else:
                pytest.fail(f"{name} -> {target}: condition {condition}")
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name}: bind mount source {source} does not exist"
            else:
                assert source in compose["volumes"], f"{name}: named volume {source} is not declared"
    assert services["worker"]["depends_on"]["lytter-setup"]["condition"] == "service_completed_successfully"
    assert services["kibana-setup"]["depends_on"]["kibana"]["condition"] == "service_healthy"
    for name in ("worker", "ingest"):
        assert services[name]["healthcheck"]["test"] == ["CMD", "lytter-healthcheck", name]
    # the ingest agents need a `connectors:` section in the watch file: opt-in profile, nothing depends on them
    assert services["ingest"]["profiles"] == ["ingest"]
    assert all("ingest" not in (s.get("depends_on") or {}) for s in services.values())
    assert all("profiles" not in s for name, s in services.items() if name != "ingest")


def test_build_points_at_the_dockerfile(services):
    for name, service in lytter_services(services).items():
        build = service["build"]
        assert (REPO / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE.resolve(), name


# ------------------------------------------------------------------------------------------------
# Dockerfile
# ------------------------------------------------------------------------------------------------


def test_dockerfile_base_image_and_install():
    instructions = dockerfile_instructions()
    args = {}
    for keyword, rest in instructions:
        if keyword == "ARG" and "=" in rest:
            name, value = rest.split("=", 1)
            args.setdefault(name, value)
    froms = [rest for keyword, rest in instructions if keyword == "FROM"]
    first_image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], froms[0].split()[0])
    assert first_image == "python:3.11-slim"
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert re.search(r"pip install --index-url \"\$\{TORCH_INDEX_URL\}\" torch", runs)
    assert args["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert re.search(r"pip install --no-deps \.(\s|$)", runs), "the project itself is installed"
    assert "lytter model build" in runs
    copies = [rest for keyword, rest in instructions if keyword == "COPY" and "--from" not in rest]
    for rest in copies:
        *sources, _dest = shlex.split(rest)
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: not in the repository"
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_dockerfile_runs_a_real_cli_command():
    instructions = dockerfile_instructions()
    entrypoint = json.loads([rest for keyword, rest in instructions if keyword == "ENTRYPOINT"][-1])
    cmd = json.loads([rest for keyword, rest in instructions if keyword == "CMD"][-1])
    assert entrypoint == ["lytter"]
    result = CliRunner().invoke(app, [*cmd, "--help"])
    assert result.exit_code == 0, result.output
    assert cmd == ["worker"]
    # the console script `lytter` is the one pyproject.toml declares
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["lytter"] == "streams.cli:main"


def test_dockerfile_ports_and_paths_agree_with_settings():
    instructions = dockerfile_instructions()
    exposed = {int(p) for keyword, rest in instructions if keyword == "EXPOSE" for p in rest.split()}
    assert exposed == {DEFAULTS["worker_web_port"], DEFAULTS["push_port"], DEFAULTS["ingest_metrics_port"]}
    env = dockerfile_env()
    assert env["LYTTER_MODEL_PATH"] == "/opt/lytter/model"
    copies = " ".join(rest for keyword, rest in instructions if keyword == "COPY")
    # the relative defaults the commands read from the working directory are in the image
    assert str(DEFAULTS["watch_file"]) in copies
    assert "deploy/kibana/lytter.ndjson" in copies
    assert "deploy/docker/healthcheck.py /usr/local/bin/lytter-healthcheck" in copies


# ------------------------------------------------------------------------------------------------
# the health-check script of the image
# ------------------------------------------------------------------------------------------------


def _healthcheck_module():
    spec = importlib.util.spec_from_file_location("lytter_healthcheck", REPO / "deploy" / "docker" / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_healthcheck_urls_follow_the_settings(monkeypatch):
    module = _healthcheck_module()
    monkeypatch.delenv("LYTTER_WORKER_WEB_PORT", raising=False)
    monkeypatch.delenv("LYTTER_INGEST_METRICS_PORT", raising=False)
    assert module.url_for("worker") == f"http://127.0.0.1:{DEFAULTS['worker_web_port']}/lytter/status/"
    assert module.url_for("ingest") == f"http://127.0.0.1:{DEFAULTS['ingest_metrics_port']}/metrics"
    monkeypatch.setenv("LYTTER_WORKER_WEB_PORT", "7077")
    assert module.url_for("worker") == "http://127.0.0.1:7077/lytter/status/"


def test_healthcheck_exit_codes():
    module = _healthcheck_module()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            self.send_response(200 if self.path == "/lytter/status/" else 503)
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert module.main([f"{base}/lytter/status/"]) == 0
        assert module.main([f"{base}/other"]) == 1
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert module.main([f"http://127.0.0.1:{closed}/"]) == 1
    assert module.main([]) == 2


# ------------------------------------------------------------------------------------------------
# Elasticsearch security: Lytter's role and user, the superuser only for the one-time setup
# ------------------------------------------------------------------------------------------------

SECURE = {"ES_SECURITY": "true", "ELASTIC_PASSWORD": "su-pw-0815", "KIBANA_PASSWORD": "ki-pw-4711", "LYTTER_ES_PASSWORD": "ly-pw-1234"}


def test_elasticsearch_mounts_lytters_role_file(services):
    from streams.ops.services.config import ROLES_FILE

    mounts = [str(v).split(":") for v in services["elasticsearch"]["volumes"]]
    roles = [m for m in mounts if m[1] == "/usr/share/elasticsearch/config/roles.yml"]
    assert len(roles) == 1 and roles[0][2:] == ["ro"]
    assert (REPO / roles[0][0]).resolve() == ROLES_FILE.resolve()  # the one definition the local node uses too
    assert "lytter" in yaml.safe_load(ROLES_FILE.read_text(encoding="utf-8"))


def test_lytter_services_never_get_the_superuser_password(compose):
    configured = interpolate(compose["services"], SECURE)
    for name, service in lytter_services(configured).items():
        env = env_of(service)
        assert env["LYTTER_ES_USERNAME"] == "lytter" and env["LYTTER_ES_PASSWORD"] == SECURE["LYTTER_ES_PASSWORD"], name
        holding = sorted(key for key, value in env.items() if SECURE["ELASTIC_PASSWORD"] in value)
        # the one exception: the one-time import of Kibana's saved objects logs in to Kibana as `elastic`
        assert holding == (["LYTTER_KIBANA_PASSWORD"] if name == "kibana-setup" else []), name
    assert env_of(configured["es-security"])["LYTTER_ES_PASSWORD"] == SECURE["LYTTER_ES_PASSWORD"]
    assert configured["lytter-setup"]["depends_on"]["es-security"]["condition"] == "service_completed_successfully"


class _FakeSecurityApi(http.server.BaseHTTPRequestHandler):
    """Answers the three calls of es-security-setup.sh the way Elasticsearch's security API does; records them."""

    calls: list[tuple[str, str, str, Any]] = []
    role_loaded = True

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"null")
        user = base64.b64decode(self.headers["Authorization"].split()[1]).decode()
        type(self).calls.append((self.command, self.path, user, body))
        if self.path == "/_security/user/_has_privileges":
            answer = {"username": user.split(":")[0], "has_all_requested": type(self).role_loaded, "cluster": {"manage_index_templates": type(self).role_loaded}}
        elif self.path == "/_security/user/lytter":
            answer = {"created": True}
        else:
            answer = {}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _run_security_setup(env: dict[str, str], role_loaded: bool = True):
    import shutil
    import subprocess

    assert shutil.which("bash") and shutil.which("curl"), "the setup script needs bash and curl (the Elasticsearch image has both)"
    _FakeSecurityApi.calls, _FakeSecurityApi.role_loaded = [], role_loaded
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeSecurityApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        full_env = {"PATH": os.environ["PATH"], "ES_URL": url, "no_proxy": "*", **env}
        proc = subprocess.run(["bash", str(REPO / "deploy" / "docker" / "es-security-setup.sh")], env=full_env, capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    return proc, list(_FakeSecurityApi.calls)


def test_security_setup_creates_the_lytter_user_as_the_superuser_once():
    tricky = 'ly "quoted" \\ pw'
    proc, calls = _run_security_setup({**SECURE, "LYTTER_ES_PASSWORD": tricky})
    assert proc.returncode == 0, proc.stderr
    assert [(method, path, user.split(":")[0]) for method, path, user, _ in calls] == [
        ("POST", "/_security/user/kibana_system/_password", "elastic"),
        ("POST", "/_security/user/lytter", "elastic"),
        ("POST", "/_security/user/_has_privileges", "lytter"),  # checked as the user itself
    ]
    assert calls[0][3] == {"password": SECURE["KIBANA_PASSWORD"]}
    assert calls[1][3]["password"] == tricky and calls[1][3]["roles"] == ["lytter"]
    assert calls[2][2] == f"lytter:{tricky}"
    assert SECURE["ELASTIC_PASSWORD"] not in proc.stdout + proc.stderr and tricky not in proc.stdout + proc.stderr


def test_security_setup_fails_when_the_role_is_not_loaded():
    proc, calls = _run_security_setup(SECURE, role_loaded=False)
    assert proc.returncode == 1 and "roles.yml" in proc.stderr, proc.stderr
    assert len(calls) == 3


def test_security_setup_without_security_does_nothing():
    proc, calls = _run_security_setup({"ES_SECURITY": "false"})
    assert proc.returncode == 0 and calls == [] and "nothing to set up" in proc.stdout
