"""The project's own local Kafka (KRaft) and Elasticsearch, fetched from Maven Central and run as plain Java
processes on 127.0.0.1: ``lytter services fetch|up|status|down|logs``.

    from streams.ops.services import LocalServices, ServiceError
    LocalServices(settings).up()     # idempotent: starts what is not running, waits until healthy

Kafka's runtime classpath comes from a generated POM (``kafka_2.13`` + its log binding), Elasticsearch is Elastic's
minimal integ-test distribution (``org.elasticsearch.distribution.integ-test-zip:elasticsearch:<v>:zip``).
"""

from streams.ops.services.errors import ServiceError
from streams.ops.services.local import SERVICES, LocalServices

__all__ = ["LocalServices", "SERVICES", "ServiceError"]
