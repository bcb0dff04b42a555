"""Every setting Lytter reads, declared once: type, default and the environment variable that sets it.

Each field's environment variable is ``LYTTER_`` + the field name in upper case (for example
``kafka_bootstrap`` is set by ``LYTTER_KAFKA_BOOTSTRAP``). ``lytter settings`` prints them all.
Secrets are ``SecretStr``: they never appear in ``repr``, logs or ``lytter settings``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(ValueError):
    """A setting's value is not valid; the message names its environment variable and what is wrong."""


def describe_errors(exc: ValidationError) -> str:
    """One line per bad value, as ``LYTTER_<FIELD>=<value>: <problem>`` (secrets not echoed)."""
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error.get("loc") else "?"
        name = f"LYTTER_{field.upper()}"
        shown = "" if "password" in field or "token" in field or "secret" in field else f"={error.get('input')!r}"
        lines.append(f"setting {name}{shown}: {error['msg']}")
    return "; ".join(lines) + " (see `lytter settings` for every setting, its type and default)"


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "lytter"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LYTTER_", env_file=None, extra="ignore")

    def __init__(self, **values) -> None:
        # pydantic's report is a multi-line traceback naming the field; users set environment variables
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(describe_errors(exc)) from None

    # --- Kafka --------------------------------------------------------------------------------
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, comma separated")
    topic_raw: str = Field("mentions.raw", description="Topic the ingest agents publish raw mentions to")
    topic_deadletter: str = Field("mentions.deadletter", description="Records that could not be processed, with the reason")
    topic_enriched: str = Field("mentions.enriched", description="Enriched mentions (after language, sentiment, brands)")
    topic_by_brand: str = Field("mentions.by-brand", description="Scored mentions keyed by brand (input of the alert rules)")
    topic_alerts: str = Field("alerts", description="Alerts raised by the rules")
    topic_deletions: str = Field("mentions.deletions", description="Mentions their sources report deleted (keyed by mention id)")
    topic_partitions: int = Field(4, description="Partitions for topics Lytter creates")
    topic_replication: int = Field(1, description="Replication factor for topics Lytter creates")

    # --- Faust worker -------------------------------------------------------------------------
    app_id: str = Field("lytter", description="Faust application id (consumer group and table prefix)")
    worker_batch_size: int = Field(256, description="Mentions taken from the stream per batch")
    worker_batch_seconds: float = Field(0.5, description="Longest wait for a batch to fill, seconds")
    worker_batches_in_flight: int = Field(
        2,
        ge=1,
        le=8,
        description="Batches the enrich stage works on at once: while the model scores one, the event loop "
        "indexes the one before and takes the next (1 = one batch at a time)",
    )
    worker_web_port: int = Field(6066, description="Port of the worker's web/metrics endpoint")
    worker_web_host: str = Field(
        "127.0.0.1",
        description="Address the worker's web/metrics endpoint listens on; it has no authentication, so another "
        "address is warned about at start (put it behind a proxy or firewall)",
    )
    worker_read_committed: bool = Field(
        True, description="Read source topics with isolation level read_committed: records of aborted transactions are never processed"
    )
    worker_stall_seconds: float = Field(
        30.0, description="A source partition whose commit has not moved for this long while records wait is re-read from it"
    )
    worker_session_timeout: float = Field(
        15.0,
        description="Seconds Kafka waits for a silent (crashed) worker before giving its partitions to the others; "
        "a worker restarted after a crash waits this long for its partitions",
    )
    worker_publish_enriched: bool = Field(True, description="Publish enriched mentions to topic_enriched (the alerting stage reads them)")
    worker_data_dir: Path = Field(Path(".lytter/worker"), description="Faust table state directory")

    # --- Elasticsearch ------------------------------------------------------------------------
    es_url: str = Field("http://127.0.0.1:9200", description="Elasticsearch URL; several nodes separated by commas")
    es_username: str | None = Field(None, description="Elasticsearch user (security on)")
    es_password: SecretStr | None = Field(None, description="Elasticsearch password (security on)")
    es_superuser_password: SecretStr | None = Field(
        None,
        description="Password `lytter services up --security` gives the `elastic` superuser when Lytter logs in as "
        "another user (role `lytter`, deploy/elasticsearch/roles.yml); for administration only, Lytter never uses it "
        "(unset: `elastic` cannot log in)",
    )
    es_index_prefix: str = Field("lytter-mentions", description="Prefix of mention indices; the write alias is this name")
    es_alerts_index: str = Field("lytter-alerts", description="Index of alerts")
    es_shards: int = Field(1, description="Primary shards per mention index")
    es_replicas: int = Field(0, description="Replicas per mention index (0 on a single local node)")
    es_bulk_chunk: int = Field(500, description="Documents per bulk request")
    es_request_timeout: float = Field(30.0, description="Elasticsearch request timeout, seconds")

    # --- local services (`lytter services ...`) ----------------------------------------------
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Where Kafka/Elasticsearch distributions and the model are cached")
    services_dir: Path = Field(Path(".lytter/services"), description="Data, config and logs of the local Kafka and Elasticsearch")
    kafka_version: str = Field("3.9.1", description="Kafka version fetched from Maven Central")
    es_version: str = Field("8.19.21", description="Elasticsearch test distribution version fetched from Maven Central")
    kafka_port: int = Field(9092, description="Local Kafka broker port")
    kafka_controller_port: int = Field(9093, description="Local Kafka KRaft controller port")
    es_port: int = Field(9200, description="Local Elasticsearch HTTP port")
    kafka_heap: str = Field("512m", description="Local Kafka JVM heap")
    es_heap: str = Field("1g", description="Local Elasticsearch JVM heap")

    # --- sentiment model ----------------------------------------------------------------------
    sentiment_enabled: bool = Field(True, description="Score sentiment in the worker (needs the model: `lytter model build`)")
    model_path: Path | None = Field(None, description="transformers sequence-classification model directory; default: the built model in the cache")
    model_labels: str = Field("", description="Label mapping 'model_label=negative,...' when the model's id2label is not negative/neutral/positive")
    model_precision: str = Field("auto", description="Inference precision: auto (bf16 on CPUs with AMX when the build checked it, else int8 if it kept the dev predictions, else fp32), fp32, bf16 or int8")
    model_threads: int = Field(0, description="CPU threads for inference (0 = all cores)")
    model_lanes: int = Field(
        0,
        ge=0,
        description="Length buckets scored at once, each on model_threads / model_lanes torch threads "
        "(0 = one per thread; 1 = one bucket at a time on all threads)",
    )
    model_max_length: int = Field(128, description="Tokens per text for sentiment")

    # --- brands and alerts --------------------------------------------------------------------
    watch_file: Path = Field(Path("deploy/watch.example.yaml"), description="Brand watch and alert configuration file")

    # --- ingest agents ----------------------------------------------------------------------
    ingest_state_dir: Path = Field(Path(".lytter/ingest"), description="Checkpoints of the ingest connectors (resume after restart)")
    push_token: SecretStr | None = Field(None, description="Bearer token the push endpoint (POST /mentions) requires")
    push_host: str = Field("127.0.0.1", description="Address the push endpoint listens on")
    push_port: int = Field(8090, description="Port of the push endpoint")
    ingest_metrics_port: int = Field(9464, description="Prometheus metrics port of `lytter ingest run` (0 = off)")
    ingest_metrics_host: str = Field(
        "127.0.0.1", description="Address the ingest metrics listen on; another than loopback serves them, unauthenticated, to the network"
    )
    worker_metrics_enabled: bool = Field(True, description="Serve Prometheus metrics at /metrics on the worker's web port")

    # --- alert delivery (channels without their settings are simply not used) ----------------
    webhook_url: SecretStr | None = Field(None, description="Slack-compatible webhook URL for alerts (a secret: it holds the token)")
    webhook_timeout: float = Field(5.0, description="Webhook request timeout, seconds")
    smtp_host: str | None = Field(None, description="SMTP server for alert e-mails")
    smtp_port: int | None = Field(None, description="SMTP port (default 587 with STARTTLS, 465 with SSL, else 25)")
    smtp_sender: str | None = Field(None, description="From address of alert e-mails")
    smtp_recipients: str = Field("", description="Alert e-mail recipients, comma separated")
    smtp_username: str | None = Field(None, description="SMTP user")
    smtp_password: SecretStr | None = Field(None, description="SMTP password")
    smtp_starttls: bool = Field(False, description="Use STARTTLS")
    smtp_ssl: bool = Field(False, description="Use implicit TLS (port 465)")

    # --- the answer loop and the team's inbox ----------------------------------------------------
    stories_max: int = Field(200_000, ge=1, description="Stories the worker keeps for near-duplicate grouping (about 4 KB each in memory); the least recently joined age out first")
    stories_ttl_hours: float = Field(72.0, gt=0, description="A story not joined for this long ages out (a later copy opens a new story)")
    worker_tick_seconds: float = Field(5.0, gt=0, description="Interval of the worker's wall-clock timer (unanswered alerts, quiet incidents, the digest schedule)")
    reply_target_minutes: float = Field(60.0, gt=0, description="Default reply target: a mention that needs a reply and is unanswered this long raises an alert (per brand in the watch file)")
    inbox_user: str | None = Field(None, description="Who `lytter inbox` actions are recorded as (default: the login name)")
    web_host: str = Field("127.0.0.1", description="Address `lytter web` (the crisis-room inbox page) listens on")
    web_port: int = Field(8470, description="Port of `lytter web`")
    web_token: SecretStr | None = Field(None, description="Token `lytter web` requires (Bearer header or the login form); required on any address but loopback")

    # --- the digest ------------------------------------------------------------------------------
    digest_schedule: str | None = Field(None, description="When the worker e-mails the digest: weekly:mon:08:00 or daily:08:00 (the digest time zone); unset: never (use `lytter digest --send` from cron)")
    digest_timezone: str = Field("Europe/Copenhagen", description="Time zone of the digest schedule and of its charts' days and hours")
    digest_since: str = Field("7d", description="Period a scheduled digest covers (7d, 24h, 30d)")
    digest_recipients: str = Field("", description="Digest e-mail recipients, comma separated (default: LYTTER_SMTP_RECIPIENTS)")

    # --- logging ------------------------------------------------------------------------------
    log_level: str = Field("INFO", description="Log level")

    def to_env(self) -> dict[str, str]:
        """These settings as LYTTER_* environment variables, for child processes (secrets included)."""
        env: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[f"LYTTER_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
        return env

    def worker_topics(self, *, source_only: bool = False) -> list[str]:
        """The one list of Lytter's topics; ``source_only``: those a worker stage reads (not the dead letters)."""
        sources = [self.topic_raw, self.topic_enriched, self.topic_by_brand, self.topic_alerts, self.topic_deletions]
        return sources if source_only else [self.topic_raw, self.topic_deadletter, *sources[1:]]

    @property
    def built_model_dir(self) -> Path:
        return self.cache_dir / "models" / "lytter-sentiment-e5s"

    def resolved_model_path(self) -> Path:
        return self.model_path or self.built_model_dir


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
