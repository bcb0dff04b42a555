"""Lytter stream processing: sources (ingest), processing (enrichment), sinks (Elasticsearch), services."""

__version__ = "0.1.0"
