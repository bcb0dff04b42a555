"""The launcher's pure parts (files, command lines, messages): ``streams.ops.services.config``."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from streams.ops.services import ServiceError
import streams.ops.services.config as cfg

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


# --- Elasticsearch security: Lytter's role and its file-realm user ---------------------------------


def test_the_roles_file_is_written_for_the_settings_defaults():
    from streams.settings import Settings

    role = yaml.safe_load(cfg.ROLES_FILE.read_text(encoding="utf-8"))[cfg.LYTTER_ROLE]
    names = {name for group in role["indices"] for name in group["names"]}
    defaults = Settings.model_fields
    assert cfg.ROLE_DEFAULT_PREFIX == defaults["es_index_prefix"].default
    assert cfg.ROLE_DEFAULT_ALERTS == defaults["es_alerts_index"].default
    assert names == {cfg.ROLE_DEFAULT_PREFIX, f"{cfg.ROLE_DEFAULT_PREFIX}-*", cfg.ROLE_DEFAULT_ALERTS}
    # least privilege: no cluster-wide administration, no index privilege on anything else
    assert not {"all", "manage", "manage_security"} & set(role["cluster"])
    assert not any({"all", "manage"} & set(group["privileges"]) for group in role["indices"])


def test_roles_yml_renames_the_default_index_names_only():
    source = cfg.ROLES_FILE.read_text(encoding="utf-8")
    doc = yaml.safe_load(cfg.lytter_roles_yml(source, index_prefix="it-x-mentions", alerts_index="it-x-alerts"))
    original = yaml.safe_load(source)[cfg.LYTTER_ROLE]
    role = doc[cfg.LYTTER_ROLE]
    assert [g["names"] for g in role["indices"]] == [["it-x-mentions", "it-x-mentions-*"], ["it-x-alerts"]]
    assert [g["privileges"] for g in role["indices"]] == [g["privileges"] for g in original["indices"]]
    assert role["cluster"] == original["cluster"]
    kept = cfg.lytter_roles_yml("lytter:\n  indices:\n    - names: [other, lytter-alerts]\n      privileges: [read]\n",
                                index_prefix="p", alerts_index="a")
    assert yaml.safe_load(kept)["lytter"]["indices"][0]["names"] == ["other", "a"]


def test_roles_yml_without_the_role_names_the_file():
    with pytest.raises(ServiceError, match="roles.yml.*'lytter'"):
        cfg.lytter_roles_yml("someone_else:\n  cluster: [monitor]\n", index_prefix="p", alerts_index="a")


def test_without_file_user_drops_only_that_user():
    users = "lytter:$2a$10$abc\nops:$2a$10$def\n"
    users_roles = "lytter:lytter\nsuperuser:ops,lytter\nviewer:ops\n"
    kept_users, kept_roles = cfg.without_file_user(users, users_roles, "lytter")
    assert kept_users == "ops:$2a$10$def\n"
    assert kept_roles == "superuser:ops\nviewer:ops\n"
    assert cfg.without_file_user("", "", "lytter") == ("", "")


@pytest.mark.parametrize("password", ["short", "two\nlines", "a\rb-long"])
def test_file_realm_password_rules(password):
    with pytest.raises(ServiceError, match="LYTTER_ES_PASSWORD"):
        cfg.check_file_realm_password(password, "es_password")


def test_users_command_keeps_the_password_off_the_command_line(tmp_path):
    command = cfg.es_users_command(es_home=tmp_path, env={"ES_PATH_CONF": "/c"}, run_as="lytter-es", args=["useradd", "lytter", "-r", "lytter"])
    assert command[:4] == ["runuser", "-u", "lytter-es", "--"]
    assert command[-5:] == [str(tmp_path / "bin" / "elasticsearch-users"), "useradd", "lytter", "-r", "lytter"]
    assert "-p" not in command and "ES_PATH_CONF=/c" in command


def test_elasticsearch_yml_extra_node_settings(tmp_path):
    # a test node with a tiny write pool (tests/integration/test_es_refusals.py)
    extra = {"thread_pool.write.size": "1", "thread_pool.write.queue_size": "1"}
    doc = yaml.safe_load(cfg.elasticsearch_yml(port=9200, data_dir=tmp_path, logs_dir=tmp_path, security=False, extra=extra))
    assert doc["thread_pool.write.size"] == 1 and doc["thread_pool.write.queue_size"] == 1
    assert doc["http.port"] == 9200
