"""The one Prometheus registry of Lytter's processes: the worker's and the ingest agents' metrics are
registered here, and each process serves it (the worker at /metrics, ingest on its metrics port)."""

from prometheus_client import CollectorRegistry

REGISTRY = CollectorRegistry(auto_describe=True)
