"""Session fixtures shared by every test package.

``services``: the real Kafka (KRaft) and Elasticsearch, started once per test session by the project's own
launcher (``streams.ops.services.LocalServices``) on their own ports and directory, so they never collide with a
developer's running demo:

=====================  =======================================  ==================================
what                   default                                  override (environment)
=====================  =======================================  ==================================
Kafka broker port      29092                                    LYTTER_TEST_KAFKA_PORT
Kafka controller port  29093                                    LYTTER_TEST_KAFKA_CONTROLLER_PORT
Elasticsearch port     29200                                    LYTTER_TEST_ES_PORT
services directory     <repo>/.lytter/test-services             LYTTER_TEST_SERVICES_DIR
keep them running      no (stopped at the end of the session)   LYTTER_TEST_KEEP_SERVICES=1
=====================  =======================================  ==================================

The distributions come from the normal cache (``LYTTER_CACHE_DIR``), so they are fetched once for demo and
tests alike. With ``LYTTER_TEST_KEEP_SERVICES=1`` the services stay up after the session and the next session
reuses them (``up`` is idempotent), which saves the ~20 s start. If they cannot start, every test that uses
the fixture fails with the launcher's message (cause and fix); nothing is skipped.

``fresh_names``: unique topic names and an index prefix per test, so tests are isolated on the shared services.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from streams.ops.services import LocalServices
from streams.settings import Settings

REPO = Path(__file__).resolve().parents[1]


@dataclass
class RunningServices:
    """What the ``services`` fixture yields."""

    settings: Settings  # kafka_bootstrap, es_url, kafka_port, es_port, services_dir ... of the test services
    launcher: LocalServices  # the launcher that started them (status(), logs(name), ...)
    started: dict[str, str] = field(default_factory=dict)  # {name: "started" | "already running"}

    @property
    def kafka_bootstrap(self) -> str:
        return self.settings.kafka_bootstrap

    @property
    def es_url(self) -> str:
        return self.settings.es_url


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        pytest.fail(f"{name}={raw!r} is not a port number", pytrace=False)


def services_settings_for_tests() -> Settings:
    """Settings pointing at the test services (ports and directory of their own; everything else as usual)."""
    kafka_port = _env_int("LYTTER_TEST_KAFKA_PORT", 29092)
    controller_port = _env_int("LYTTER_TEST_KAFKA_CONTROLLER_PORT", 29093)
    es_port = _env_int("LYTTER_TEST_ES_PORT", 29200)
    services_dir = Path(os.environ.get("LYTTER_TEST_SERVICES_DIR") or REPO / ".lytter" / "test-services")
    return Settings(
        kafka_port=kafka_port,
        kafka_controller_port=controller_port,
        es_port=es_port,
        services_dir=services_dir,
        kafka_bootstrap=f"127.0.0.1:{kafka_port}",
        es_url=f"http://127.0.0.1:{es_port}",
        es_username=None,
        es_password=None,
    )



@pytest.fixture(scope="session")
def services():
    """The real Kafka and Elasticsearch for this test session (see the module docstring)."""
    from streams.ops.services import ServiceError

    settings = services_settings_for_tests()
    launcher = LocalServices(settings)
    problem = None
    try:
        started = launcher.up(timeout=float(os.environ.get("LYTTER_TEST_SERVICES_TIMEOUT", "240")))
    except ServiceError as exc:
        problem = str(exc)
    if problem is not None:  # failed outside the except block: one clear message, no chained traceback
        pytest.fail(
            f"the test services (Kafka and Elasticsearch) could not start:\n{problem}\n"
            "(for tests, ports and directory come from LYTTER_TEST_KAFKA_PORT, LYTTER_TEST_KAFKA_CONTROLLER_PORT, "
            "LYTTER_TEST_ES_PORT and LYTTER_TEST_SERVICES_DIR)",
            pytrace=False,
        )
    yield RunningServices(settings=settings, launcher=launcher, started=started)
    if os.environ.get("LYTTER_TEST_KEEP_SERVICES", "").lower() not in ("1", "true", "yes"):
        launcher.down()


@dataclass(frozen=True)
class FreshNames:
    """Names unique to one test: ``topic("raw")`` -> ``t-<suffix>.raw``, ``index_prefix`` -> ``t-<suffix>``."""

    suffix: str

    def topic(self, name: str = "topic") -> str:
        return f"t-{self.suffix}.{name}"

    @property
    def index_prefix(self) -> str:
        return f"t-{self.suffix}"

    def index(self, name: str = "index") -> str:
        return f"{self.index_prefix}-{name}"

    @property
    def group(self) -> str:
        return f"g-{self.suffix}"


@pytest.fixture
def fresh_names() -> FreshNames:
    """Unique topic / index / consumer-group names for one test (uuid suffix), for isolation on shared services."""
    return FreshNames(uuid.uuid4().hex[:12])


@pytest.fixture(scope="session")
def sentiment_model_dir() -> Path:
    """The project's sentiment model, built once by the same code as `lytter model build` (cached in
    ``settings.cache_dir``: later sessions only find it)."""
    from models.build import build_models

    return build_models(Settings())
