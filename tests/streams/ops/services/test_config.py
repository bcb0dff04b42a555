"""The launcher's pure parts (files, command lines, messages) and its checks that need no running service."""

from __future__ import annotations

import base64
import re
import socket
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
import yaml

from streams.ops.services import LocalServices, ServiceError, local
from streams.ops.services import config as cfg
from streams.settings import Settings

POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


# --- Maven ---------------------------------------------------------------------------------------


def test_kafka_pom_depends_on_the_broker_and_the_log_binding():
    root = ET.fromstring(cfg.kafka_runtime_pom("3.9.1"))
    assert root.findtext("m:packaging", namespaces=POM_NS) == "pom"
    deps = {
        (d.findtext("m:groupId", namespaces=POM_NS), d.findtext("m:artifactId", namespaces=POM_NS)): d.findtext(
            "m:version", namespaces=POM_NS
        )
        for d in root.iterfind("m:dependencies/m:dependency", POM_NS)
    }
    assert deps == {
        ("org.apache.kafka", "kafka_2.13"): "3.9.1",
        ("ch.qos.reload4j", "reload4j"): "1.2.25",
        ("org.slf4j", "slf4j-reload4j"): "1.7.36",
    }
    assert not any("kafka-tools" == a for _, a in deps)  # kafka-tools drags in Jetty


def test_kafka_pom_escapes_the_version():
    pom = ET.fromstring(cfg.kafka_runtime_pom("3.9.1<&>"))  # still well-formed XML
    assert "3.9.1<&>" in [element.text for element in pom.iter()]  # and the version comes back unchanged


def test_kafka_fetch_command_copies_the_runtime_scope(tmp_path):
    command = cfg.kafka_fetch_command("/usr/bin/mvn", tmp_path / "pom.xml", tmp_path / "libs")
    assert command[:3] == ["/usr/bin/mvn", "-B", "-q"]
    assert command[command.index("-f") + 1] == str(tmp_path / "pom.xml")
    assert "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies" in command
    assert "-DincludeScope=runtime" in command
    assert f"-DoutputDirectory={tmp_path / 'libs'}" in command


def test_es_fetch_command_copies_the_integ_test_zip(tmp_path):
    command = cfg.es_fetch_command("mvn", "8.19.21", tmp_path)
    assert "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy" in command
    assert "-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:8.19.21:zip" in command
    assert f"-DoutputDirectory={tmp_path}" in command


def test_maven_failure_unknown_version_points_at_the_setting():
    output = (
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy (default-cli) "
        "on project standalone-pom: Unable to find/resolve artifact. Could not find artifact "
        "org.elasticsearch.distribution.integ-test-zip:elasticsearch:zip:1.2.3 in central\n[ERROR] \n"
    )
    message = cfg.maven_failure_message("Elasticsearch 1.2.3", "es_version", output, 1)
    assert "no such artifact" in message and "LYTTER_ES_VERSION" in message
    assert "elasticsearch:zip:1.2.3" in message  # Maven's own line is kept


def test_maven_failure_unreachable_central_says_so():
    output = (
        "[ERROR] Plugin org.apache.maven.plugins:maven-dependency-plugin:3.6.1 or one of its dependencies could not be "
        "resolved: Could not transfer artifact ... from/to central (https://repo.maven.apache.org/maven2): "
        "Connect to repo.maven.apache.org:443 failed: Connection refused\n"
    )
    message = cfg.maven_failure_message("Kafka 3.9.1", "kafka_version", output, 1)
    assert "could not be reached" in message and "settings.xml" in message
    assert "Connection refused" in message


# --- Kafka ---------------------------------------------------------------------------------------


def test_server_properties_single_kraft_node(tmp_path):
    props = _props(cfg.kafka_server_properties(port=29092, controller_port=29093, data_dir=tmp_path))
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29092"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["log.dirs"] == str(tmp_path)
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor", "transaction.state.log.min.isr"):
        assert props[key] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"


def test_cluster_id_looks_like_kafka_random_uuid():
    ids = {cfg.new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cluster_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_kafka_commands(tmp_path):
    libs, log4j, props = tmp_path / "libs", tmp_path / "log4j.properties", tmp_path / "server.properties"
    server = cfg.kafka_server_command(java=Path("/jdk/bin/java"), libs_dir=libs, heap="512m", log4j_file=log4j, properties=props)
    assert server[0] == "/jdk/bin/java"
    assert ["-Xms512m", "-Xmx512m"] == [a for a in server if a.startswith(("-Xms", "-Xmx"))]
    assert server[server.index("-cp") + 1] == f"{libs}/*"  # the JVM expands the star, no shell
    assert server[-2:] == ["kafka.Kafka", str(props)]
    assert f"-Dlog4j.configuration=file://{log4j}" in server
    fmt = cfg.kafka_format_command(java=Path("java"), libs_dir=libs, log4j_file=log4j, cluster_id="abc", properties=props)
    assert fmt[fmt.index("kafka.tools.StorageTool") :] == ["kafka.tools.StorageTool", "format", "-t", "abc", "-c", str(props), "--ignore-formatted"]


@pytest.mark.parametrize("heap", ["512m", "1g", "2048M", "1048576k", "67108864"])
def test_heap_flags_accepts_jvm_sizes(heap):
    assert cfg.heap_flags(heap, "es_heap") == [f"-Xms{heap}", f"-Xmx{heap}"]


@pytest.mark.parametrize("heap", ["", "1 g", "-1g", "1gb", "0m", "1g -XX:+Foo"])
def test_heap_flags_rejects_anything_else_naming_the_setting(heap):
    with pytest.raises(ServiceError, match="LYTTER_KAFKA_HEAP"):
        cfg.heap_flags(heap, "kafka_heap")


# --- Elasticsearch -------------------------------------------------------------------------------


def test_elasticsearch_yml_plain(tmp_path):
    doc = yaml.safe_load(cfg.elasticsearch_yml(port=29200, data_dir=tmp_path / "data", logs_dir=tmp_path / "logs", security=False))
    assert doc["network.host"] == "127.0.0.1"
    assert doc["http.port"] == 29200
    assert doc["discovery.type"] == "single-node"
    assert doc["path.data"] == str(tmp_path / "data") and doc["path.logs"] == str(tmp_path / "logs")
    assert doc["xpack.security.enabled"] is False
    assert doc["cluster.routing.allocation.disk.threshold_enabled"] is False
    assert doc["action.destructive_requires_name"] is False
    # rejected by the integ-test distribution (no ingest-geoip module): the node would not start
    assert "ingest.geoip.downloader.enabled" not in doc


def test_elasticsearch_yml_security_without_tls(tmp_path):
    doc = yaml.safe_load(cfg.elasticsearch_yml(port=9200, data_dir=tmp_path, logs_dir=tmp_path, security=True))
    assert doc["xpack.security.enabled"] is True
    assert doc["xpack.security.http.ssl.enabled"] is False


def test_elasticsearch_yml_quotes_odd_paths():
    odd = Path("/tmp/with space/and: colon")
    doc = yaml.safe_load(cfg.elasticsearch_yml(port=9200, data_dir=odd, logs_dir=odd, security=False))
    assert doc["path.data"] == str(odd)


def test_es_command_runs_as_user_with_explicit_environment(tmp_path):
    env = cfg.es_environment(java_home=Path("/jdk"), conf_dir=tmp_path / "config", heap="1g")
    assert env == {"ES_JAVA_HOME": "/jdk", "ES_PATH_CONF": str(tmp_path / "config"), "ES_JAVA_OPTS": "-Xms1g -Xmx1g"}
    as_root = cfg.es_server_command(es_home=Path("/es"), env=env, run_as="lytter-es")
    assert as_root[:4] == ["runuser", "-u", "lytter-es", "--"]
    assert as_root[4] == "env" and as_root[-1] == "/es/bin/elasticsearch"
    assert f"ES_PATH_CONF={tmp_path / 'config'}" in as_root and "ES_JAVA_OPTS=-Xms1g -Xmx1g" in as_root
    plain = cfg.es_server_command(es_home=Path("/es"), env=env, run_as=None)
    assert plain == as_root[4:]
    keystore = cfg.es_keystore_command(es_home=Path("/es"), env=env, run_as=None, args=["add", "-x", "-f", "bootstrap.password"])
    assert keystore[-5:] == ["/es/bin/elasticsearch-keystore", "add", "-x", "-f", "bootstrap.password"]


def test_es_health_parsing():
    assert cfg.es_health_is_ok({"status": "green", "timed_out": False})
    assert cfg.es_health_is_ok({"status": "yellow"})
    assert not cfg.es_health_is_ok({"status": "red", "timed_out": True})
    assert not cfg.es_health_is_ok({"status": "yellow", "timed_out": True})
    assert cfg.es_health_path(2) == "/_cluster/health?wait_for_status=yellow&timeout=2s"


# --- Java ----------------------------------------------------------------------------------------

JAVA17_PROPERTIES = """Property settings:
    file.encoding = UTF-8
    java.home = /usr/lib/jvm/java-17-openjdk-amd64
    java.library.path = /usr/java/packages/lib
        /usr/lib/x86_64-linux-gnu/jni
    java.specification.version = 17
    java.version = 17.0.15

openjdk version "17.0.15" 2025-04-15
OpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)
"""


def test_java_info_from_show_settings():
    info = cfg.java_info_from_output(Path("/usr/bin/java"), JAVA17_PROPERTIES)
    assert info.home == Path("/usr/lib/jvm/java-17-openjdk-amd64")
    assert (info.version, info.major) == ("17.0.15", 17)


def test_java_info_from_plain_version_output():
    info = cfg.java_info_from_output(Path("/opt/jdk8/bin/java"), 'java version "1.8.0_292"\nJava(TM) SE Runtime Environment\n')
    assert info.major == 8
    assert info.home == Path("/opt/jdk8")
    message = cfg.java_too_old_message(info)
    assert "1.8.0_292" in message and "17" in message and "JAVA_HOME" in message


@pytest.mark.parametrize("version,major", [("17.0.15", 17), ("1.8.0_292", 8), ("21", 21), ("22-ea", 22), ("11.0.2+9", 11)])
def test_parse_java_major(version, major):
    assert cfg.parse_java_major(version) == major


# --- messages and small helpers ------------------------------------------------------------------


def test_port_message_names_port_setting_and_env():
    message = cfg.port_in_use_message(cfg.PortUse(9092, "Kafka broker", "kafka_port"))
    assert "port 9092" in message and "Kafka broker" in message
    assert "kafka_port" in message and "LYTTER_KAFKA_PORT=19092" in message


def test_tail_lines():
    text = "\n".join(f"line {i}" for i in range(100))
    assert cfg.tail_lines(text, 3) == "line 97\nline 98\nline 99"
    assert cfg.tail_lines(text, 0) == ""
    assert cfg.tail_lines("one", 30) == "one"


def test_read_tail_reads_only_the_end_of_a_big_log(tmp_path):
    path = tmp_path / "big.log"
    path.write_text("".join(f"line {i}\n" for i in range(200_000)))
    assert local._read_tail(path, 2) == "line 199998\nline 199999"
    assert local._read_tail(tmp_path / "missing.log", 5) == ""


def test_extract_zip_keeps_executable_bits_and_refuses_escapes(tmp_path):
    archive = tmp_path / "dist.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        script = zipfile.ZipInfo("es/bin/elasticsearch")
        script.external_attr = 0o100755 << 16
        zf.writestr(script, "#!/bin/sh\n")
        conf = zipfile.ZipInfo("es/config/users")
        conf.external_attr = 0o100660 << 16
        zf.writestr(conf, "")
    local._extract_zip(archive, tmp_path / "out")
    assert (tmp_path / "out/es/bin/elasticsearch").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out/es/config/users").stat().st_mode & 0o777 == 0o644  # readable by the ES user
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../outside.txt", "x")
    with pytest.raises(ServiceError, match="outside"):
        local._extract_zip(evil, tmp_path / "out2")
    assert not (tmp_path / "outside.txt").exists()


# --- checks of the launcher that need no running service -----------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _settings(tmp_path: Path, **overrides) -> Settings:
    """Settings of a launcher that starts nothing: its own directories and free ports (a running demo is no matter)."""
    values = dict(
        services_dir=tmp_path / "services",
        cache_dir=tmp_path / "cache",
        kafka_port=_free_port(),
        kafka_controller_port=_free_port(),
        es_port=_free_port(),
    )
    values.update(overrides)
    return Settings(**values)


def test_missing_java_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(ServiceError, match="Java was not found") as info:
        LocalServices(_settings(tmp_path)).up()
    assert "JAVA_HOME" in str(info.value)


def test_old_java_is_a_clear_error(tmp_path, monkeypatch):
    fake_home = tmp_path / "jdk8"
    (fake_home / "bin").mkdir(parents=True)
    java = fake_home / "bin" / "java"
    java.write_text('#!/bin/sh\necho \'java version "1.8.0_292"\' >&2\n')
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(fake_home))
    with pytest.raises(ServiceError, match=r"Java 1\.8\.0_292 .* too old"):
        LocalServices(_settings(tmp_path)).java()


def test_missing_maven_is_a_clear_error_only_when_something_must_be_fetched(tmp_path, monkeypatch):
    services = LocalServices(_settings(tmp_path))
    services.java()  # the real JDK, found before PATH is emptied
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceError, match=r"Maven \(`mvn`\) was not found"):
        services.fetch()
    for home in (services.paths.kafka_home, services.paths.es_home):  # a complete cache needs no Maven
        home.mkdir(parents=True)
        (home / local.COMPLETE).write_text("done\n")
    assert services.fetch() == {"kafka": services.paths.kafka_libs, "elasticsearch": services.paths.es_home}


def test_same_port_twice_is_refused(tmp_path):
    settings = _settings(tmp_path, kafka_port=29555, kafka_controller_port=29555)
    with pytest.raises(ServiceError, match="LYTTER_KAFKA_PORT.*LYTTER_KAFKA_CONTROLLER_PORT|both set to port 29555"):
        LocalServices(settings).up()


def test_status_down_and_logs_when_nothing_was_started(tmp_path):
    free = _free_port()
    services = LocalServices(_settings(tmp_path, es_port=free))
    state = services.status()
    assert set(state) == {"kafka", "elasticsearch"}
    assert state["elasticsearch"] == {
        "running": False, "pid": None, "port": free, "healthy": False,
        "log": str(tmp_path / "services" / "elasticsearch" / "elasticsearch.log"),
        "url": f"http://127.0.0.1:{free}", "detail": "stopped",
    }  # fmt: skip
    assert services.down() == {"kafka": "not running", "elasticsearch": "not running"}
    with pytest.raises(ServiceError, match="no Kafka log"):
        services.logs("kafka")
    with pytest.raises(ServiceError, match="unknown service 'zookeeper'"):
        services.logs("zookeeper")


def test_a_stale_pid_file_is_not_running(tmp_path):
    services = LocalServices(_settings(tmp_path))
    services.paths.kafka_pid.parent.mkdir(parents=True)
    services.paths.kafka_pid.write_text("1\n")  # init: alive, but not our Kafka
    assert services.status()["kafka"]["running"] is False
    assert services.down(names=["kafka"]) == {"kafka": "not running"}
    assert not services.paths.kafka_pid.exists()
