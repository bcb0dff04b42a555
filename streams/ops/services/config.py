"""The pure parts of the local-services launcher: file contents, command lines, parsing.

Nothing here touches the network, starts a process or writes a file; ``streams.ops.services.local`` does.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from streams.ops.services.errors import ServiceError

MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

# The Kafka POM does not carry a logging backend; Kafka 3.x logs through slf4j 1.7 + (re)log4j 1.x.
KAFKA_LOG_BINDINGS = (("ch.qos.reload4j", "reload4j", "1.2.25"), ("org.slf4j", "slf4j-reload4j", "1.7.36"))

ES_GROUP_ID = "org.elasticsearch.distribution.integ-test-zip"
ES_ARTIFACT_ID = "elasticsearch"

MIN_JAVA = 17  # Elasticsearch 8.19 needs 17; Kafka 3.9 needs 11 (17 recommended)

KAFKA_READY_LINE = "Kafka Server started"


# --- settings that name a port -----------------------------------------------------------------


@dataclass(frozen=True)
class PortUse:
    port: int
    what: str  # "Kafka broker"
    setting: str  # "kafka_port"

    @property
    def env(self) -> str:
        return f"LYTTER_{self.setting.upper()}"


def port_in_use_message(use: PortUse) -> str:
    return (
        f"port {use.port} ({use.what}) on 127.0.0.1 is already in use by another process. "
        f"Stop that process, or choose another port with the setting {use.setting} "
        f"(environment variable {use.env}, e.g. {use.env}={suggest_port(use.port)})."
    )


def suggest_port(port: int) -> int:
    return port + 10000 if port + 10000 < 65536 else port - 10000


# --- heap and Java -------------------------------------------------------------------------------

_HEAP = re.compile(r"^[1-9][0-9]*[kKmMgG]?$")


def heap_flags(heap: str, setting: str) -> list[str]:
    """``512m`` -> ``["-Xms512m", "-Xmx512m"]``; anything that is not a JVM size is a ServiceError."""
    value = heap.strip()
    if not _HEAP.match(value):
        raise ServiceError(
            f"invalid JVM heap size {heap!r} in setting {setting} (LYTTER_{setting.upper()}): "
            "use a number with an optional unit k, m or g, e.g. 512m or 1g."
        )
    return [f"-Xms{value}", f"-Xmx{value}"]


@dataclass(frozen=True)
class JavaInfo:
    executable: Path
    home: Path
    version: str
    major: int


def parse_java_major(version: str) -> int:
    """``17.0.15`` -> 17, ``1.8.0_292`` -> 8, ``21`` -> 21, ``22-ea`` -> 22."""
    match = re.match(r"^(\d+)(?:\.(\d+))?", version.strip())
    if not match:
        raise ValueError(f"not a Java version: {version!r}")
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    return major


def parse_java_properties(output: str) -> dict[str, str]:
    """The ``key = value`` lines of ``java -XshowSettings:properties -version`` (continuation lines skipped)."""
    props: dict[str, str] = {}
    for line in output.splitlines():
        match = re.match(r"^\s{4}([\w.]+) = (.*)$", line)
        if match:
            props[match.group(1)] = match.group(2).strip()
    return props


def java_info_from_output(executable: Path, output: str) -> JavaInfo:
    props = parse_java_properties(output)
    version = props.get("java.version")
    if version is None:
        match = re.search(r'version "([^"]+)"', output)
        if not match:
            raise ServiceError(f"could not read the Java version from `{executable} -version`:\n{output.strip()[:500]}")
        version = match.group(1)
    home = Path(props["java.home"]) if "java.home" in props else executable.resolve().parent.parent
    return JavaInfo(executable=executable, home=home, version=version, major=parse_java_major(version))


def java_too_old_message(info: JavaInfo) -> str:
    return (
        f"Java {info.version} at {info.executable} is too old: the local Kafka and Elasticsearch need Java {MIN_JAVA} "
        f"or newer. Install a JDK {MIN_JAVA}+ (Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`) and put it "
        "on PATH or point JAVA_HOME at it."
    )


JAVA_MISSING = (
    "Java was not found: the local Kafka and Elasticsearch are Java programs. Install a JDK "
    f"{MIN_JAVA} or newer (Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`) and put `java` on PATH, "
    "or set JAVA_HOME to its directory."
)

MAVEN_MISSING = (
    "Maven (`mvn`) was not found: the local Kafka and Elasticsearch distributions are fetched from Maven Central "
    "with it. Install it (Debian/Ubuntu: `apt-get install maven`) and put `mvn` on PATH. Once fetched, the "
    "distributions are cached and `mvn` is no longer needed."
)


# --- Maven ---------------------------------------------------------------------------------------


def kafka_runtime_pom(kafka_version: str, scala: str = "2.13") -> str:
    """A throw-away POM whose runtime classpath is a Kafka broker (KRaft) with its log binding."""
    deps = [("org.apache.kafka", f"kafka_{scala}", kafka_version), *KAFKA_LOG_BINDINGS]
    lines = "\n".join(
        f"    <dependency><groupId>{escape(g)}</groupId><artifactId>{escape(a)}</artifactId>"
        f"<version>{escape(v)}</version></dependency>"
        for g, a, v in deps
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by lytter (streams/ops/services): the runtime classpath of a local Kafka broker -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lytter.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>{escape(kafka_version)}</version>
  <packaging>pom</packaging>
  <dependencies>
{lines}
  </dependencies>
</project>
"""


def maven_base_command(mvn: str) -> list[str]:
    return [mvn, "-B", "-q", "-Dstyle.color=never"]


def kafka_fetch_command(mvn: str, pom: Path, libs_dir: Path) -> list[str]:
    return [
        *maven_base_command(mvn),
        "-f",
        str(pom),
        f"{MAVEN_DEPENDENCY_PLUGIN}:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={libs_dir}",
    ]


def es_artifact(es_version: str) -> str:
    return f"{ES_GROUP_ID}:{ES_ARTIFACT_ID}:{es_version}:zip"


def es_fetch_command(mvn: str, es_version: str, output_dir: Path) -> list[str]:
    return [
        *maven_base_command(mvn),
        f"{MAVEN_DEPENDENCY_PLUGIN}:copy",
        f"-Dartifact={es_artifact(es_version)}",
        f"-DoutputDirectory={output_dir}",
        "-Dmdep.overWriteReleases=true",
    ]


def maven_failure_message(what: str, version_setting: str, output: str, returncode: int) -> str:
    """Explain a failed Maven run: unknown version, unreachable Central, or something else."""
    text = output.replace("\x1b[0m", "").replace("\x1b[1m", "")
    boilerplate = ("[ERROR] To see the full", "[ERROR] Re-run Maven", "[ERROR] For more information", "[ERROR] [Help ")
    errors = [
        line
        for line in text.splitlines()
        if line.startswith("[ERROR]") and line.strip() != "[ERROR]" and not line.startswith(boilerplate)
    ]
    detail = "\n".join((errors or text.strip().splitlines())[:6])
    env = f"LYTTER_{version_setting.upper()}"
    if re.search(r"Could not find artifact|was not found in|Failure to find", text):
        cause = (
            f"Maven Central has no such artifact: check the version (setting {version_setting}, "
            f"environment variable {env})."
        )
    elif re.search(
        r"Could not transfer|Connect(ion)? (to .* )?(refused|timed out|reset)|UnknownHost|Unknown host|"
        r"Network is unreachable|No route to host|offline mode|PKIX|Could not resolve",
        text,
        re.IGNORECASE,
    ):
        cause = (
            "Maven Central (https://repo.maven.apache.org) could not be reached. Check the network, or a proxy or "
            "mirror in ~/.m2/settings.xml; the distributions are cached after the first successful fetch."
        )
    else:
        cause = "see Maven's output below; rerun it by hand with -X for details."
    return f"could not fetch {what} with Maven (exit {returncode}): {cause}\n{detail}".rstrip()


# --- Kafka ---------------------------------------------------------------------------------------


def new_cluster_id() -> str:
    """A KRaft cluster id, the same form as ``kafka-storage random-uuid`` (URL-safe base64, 22 chars)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka avoids ids that look like command-line flags
            return text


def kafka_server_properties(
    *, port: int, controller_port: int, data_dir: Path, node_id: int = 1, voters: str | None = None, replication: int = 1
) -> str:
    """A combined broker+controller (KRaft) on 127.0.0.1, sized for a laptop: a single node by default, or
    one node of a cluster (``voters`` = ``id@host:port,...`` of every controller; ``replication`` = the
    default replication factor, with min ISR ``replication - 1`` so one node may be down)."""
    min_isr = str(max(1, replication - 1))
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node_id),
        "controller.quorum.voters": voters or f"{node_id}@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "1",
        "default.replication.factor": str(replication),
        "min.insync.replicas": min_isr,
        "unclean.leader.election.enable": "false",
        "offsets.topic.replication.factor": str(replication),
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": str(replication),
        "transaction.state.log.min.isr": min_isr,
        "transaction.state.log.num.partitions": "10",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "2",
        "num.recovery.threads.per.data.dir": "1",
        "log.cleaner.dedupe.buffer.size": "33554432",
        "delete.topic.enable": "true",
    }
    body = "\n".join(f"{key}={value}" for key, value in props.items())
    return f"# generated by lytter (streams/ops/services) on every `up`; edits are overwritten\n{body}\n"


KAFKA_LOG4J = """# generated by lytter (streams/ops/services): everything to stdout, which the launcher writes to kafka.log
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
"""


def kafka_java_opts(*, heap: str, log4j_file: Path) -> list[str]:
    return [
        *heap_flags(heap, "kafka_heap"),
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j.configuration={log4j_file.as_uri()}",
    ]


def kafka_format_command(*, java: Path, libs_dir: Path, log4j_file: Path, cluster_id: str, properties: Path) -> list[str]:
    return [
        str(java),
        f"-Dlog4j.configuration={log4j_file.as_uri()}",
        "-cp",
        f"{libs_dir}/*",  # quoted star: the JVM expands it, no shell involved
        "kafka.tools.StorageTool",
        "format",
        "-t",
        cluster_id,
        "-c",
        str(properties),
        "--ignore-formatted",
    ]


def kafka_server_command(*, java: Path, libs_dir: Path, heap: str, log4j_file: Path, properties: Path) -> list[str]:
    return [
        str(java),
        *kafka_java_opts(heap=heap, log4j_file=log4j_file),
        "-cp",
        f"{libs_dir}/*",
        "kafka.Kafka",
        str(properties),
    ]


# --- Elasticsearch -------------------------------------------------------------------------------


def elasticsearch_yml(*, port: int, data_dir: Path, logs_dir: Path, security: bool, cluster_name: str = "lytter-local",
                      extra: dict[str, str] | None = None) -> str:
    """``elasticsearch.yml`` for one local node. Only settings the integ-test distribution knows:
    ``ingest.geoip.downloader.enabled`` is rejected there ("unknown setting": no ingest-geoip module) and the
    node would not start. ``extra``: further node settings (a test node with a tiny write thread pool)."""
    settings: list[tuple[str, str]] = [
        ("cluster.name", cluster_name),
        ("node.name", cluster_name),
        ("network.host", "127.0.0.1"),
        ("http.port", str(port)),
        ("discovery.type", "single-node"),
        ("path.data", str(data_dir)),
        ("path.logs", str(logs_dir)),
        ("cluster.routing.allocation.disk.threshold_enabled", "false"),
        ("action.destructive_requires_name", "false"),
        ("xpack.security.enabled", "true" if security else "false"),
    ]
    if security:
        # HTTP without TLS on 127.0.0.1; the `elastic` user's password is the keystore's bootstrap.password
        settings += [("xpack.security.http.ssl.enabled", "false"), ("xpack.security.transport.ssl.enabled", "false")]
    settings += sorted((extra or {}).items())
    body = "\n".join(f"{key}: {_yaml_scalar(value)}" for key, value in settings)
    return f"# generated by lytter (streams/ops/services) on every `up`; edits are overwritten\n{body}\n"


def _yaml_scalar(value: str) -> str:
    if value in ("true", "false") or re.fullmatch(r"[0-9]+", value) or re.fullmatch(r"[A-Za-z0-9._/-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def es_environment(*, java_home: Path, conf_dir: Path, heap: str) -> dict[str, str]:
    return {
        "ES_JAVA_HOME": str(java_home),
        "ES_PATH_CONF": str(conf_dir),
        "ES_JAVA_OPTS": " ".join(heap_flags(heap, "es_heap")),
    }


def es_server_command(*, es_home: Path, env: dict[str, str], run_as: str | None, runuser: str = "runuser") -> list[str]:
    """``[runuser -u USER --] env K=V... <home>/bin/elasticsearch``: the environment is spelled out on the
    command line so it survives ``runuser`` and so the process can be recognised by its ES_PATH_CONF."""
    command = ["env", *(f"{key}={value}" for key, value in sorted(env.items())), str(es_home / "bin" / "elasticsearch")]
    return ([runuser, "-u", run_as, "--"] if run_as else []) + command


def es_keystore_command(
    *, es_home: Path, env: dict[str, str], run_as: str | None, args: list[str], runuser: str = "runuser"
) -> list[str]:
    command = ["env", *(f"{key}={value}" for key, value in sorted(env.items())), str(es_home / "bin" / "elasticsearch-keystore"), *args]
    return ([runuser, "-u", run_as, "--"] if run_as else []) + command


def es_health_path(wait_seconds: int = 1) -> str:
    return f"/_cluster/health?wait_for_status=yellow&timeout={wait_seconds}s"


def es_health_is_ok(body: dict) -> bool:
    return body.get("status") in ("green", "yellow") and not body.get("timed_out", False)


# --- Elasticsearch security: Lytter's role and its file-realm user --------------------------------

#: The one definition of Lytter's least-privilege role (the local node, docker-compose.yml and README use it).
ROLES_FILE = Path(__file__).resolve().parents[3] / "deploy" / "elasticsearch" / "roles.yml"
LYTTER_ROLE = "lytter"
SUPERUSER = "elastic"
# the index names roles.yml is written for: the defaults of es_index_prefix and es_alerts_index
ROLE_DEFAULT_PREFIX = "lytter-mentions"
ROLE_DEFAULT_ALERTS = "lytter-alerts"


def lytter_roles_yml(source: str, *, index_prefix: str, alerts_index: str) -> str:
    """``roles.yml`` for a node whose Lytter uses ``index_prefix`` / ``alerts_index``: the repository's roles
    file with its default index names renamed (and any other name left as it is)."""
    import yaml

    try:
        roles = yaml.safe_load(source)
        role = roles[LYTTER_ROLE]
        groups = role["indices"]
    except (yaml.YAMLError, TypeError, KeyError) as exc:
        raise ServiceError(f"{ROLES_FILE} does not define the role {LYTTER_ROLE!r} with `indices` ({exc}); restore it from git") from None
    renamed = {
        ROLE_DEFAULT_PREFIX: index_prefix,
        f"{ROLE_DEFAULT_PREFIX}-*": f"{index_prefix}-*",
        ROLE_DEFAULT_ALERTS: alerts_index,
    }
    for group in groups:
        group["names"] = [renamed.get(name, name) for name in group["names"]]
    body = yaml.safe_dump(roles, sort_keys=False, default_flow_style=None, width=200)
    return f"# generated by lytter (streams/ops/services) from {ROLES_FILE.name} on every `up`; edits are overwritten\n{body}"


def check_file_realm_password(password: str, setting: str) -> None:
    """The file realm's rules (elasticsearch-users refuses shorter ones); a newline would end it on stdin."""
    if len(password) < 6 or "\n" in password or "\r" in password:
        raise ServiceError(
            f"the Elasticsearch password in {setting} (LYTTER_{setting.upper()}) must be at least 6 characters on one line"
        )


def without_file_user(users: str, users_roles: str, user: str) -> tuple[str, str]:
    """The file realm's ``users`` and ``users_roles`` files without ``user`` (so ``useradd`` can add it again).

    ``users``: ``name:hash`` per line; ``users_roles``: ``role:name1,name2`` per line."""
    kept_users = [line for line in users.splitlines() if line.split(":", 1)[0].strip() != user]
    kept_roles = []
    for line in users_roles.splitlines():
        role, sep, names = line.partition(":")
        if not sep:
            kept_roles.append(line)
            continue
        others = [n.strip() for n in names.split(",") if n.strip() and n.strip() != user]
        if others:
            kept_roles.append(f"{role}:{','.join(others)}")
    return "".join(f"{line}\n" for line in kept_users), "".join(f"{line}\n" for line in kept_roles)


def es_users_command(
    *, es_home: Path, env: dict[str, str], run_as: str | None, args: list[str], runuser: str = "runuser"
) -> list[str]:
    """``elasticsearch-users ARGS`` (the password goes to its stdin, never onto a command line)."""
    command = ["env", *(f"{key}={value}" for key, value in sorted(env.items())), str(es_home / "bin" / "elasticsearch-users"), *args]
    return ([runuser, "-u", run_as, "--"] if run_as else []) + command


# --- logs ----------------------------------------------------------------------------------------


def tail_lines(text: str, lines: int) -> str:
    if lines <= 0:
        return ""
    return "\n".join(text.splitlines()[-lines:])
