"""Sinks: where enriched mentions, dead letters and alerts go (Elasticsearch, Kafka)."""
