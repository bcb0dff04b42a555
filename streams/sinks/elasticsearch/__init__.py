"""The Elasticsearch sink: index template, alias, and batched indexing of enriched mentions.

- ``client``: clients for the configured cluster, access problems, which errors are worth a retry;
- ``mapping``: the mention template and mapping, ``setup_indices``, the alerts mapping;
- ``bulk``: bulk actions and the reading of a bulk answer item by item (written, refused, "not now");
- ``indexer``: ``MentionIndexer``, the worker's writer (lookup before writing, retries, refusals, blocks);
- ``alerts``: ``AlertIndexer``.

The document ``_id`` is the mention id, so replaying the same mention overwrites instead of duplicating,
in whichever index behind the alias holds it (see ``indexer``).
"""

from streams.sinks.elasticsearch.alerts import AlertIndexer
from streams.sinks.elasticsearch.bulk import RETRY_ON_CONFLICT, RETRY_ON_STATUS, BulkResult
from streams.sinks.elasticsearch.client import (
    ElasticsearchAccessError, access_problem, async_client, check_access, client_options, is_retryable, sync_client,
)
from streams.sinks.elasticsearch.indexer import IndexerStats, MentionIndexer
from streams.sinks.elasticsearch.mapping import (
    LANGUAGE_ANALYZERS, TEMPLATE_VERSION, SetupReport, alert_mappings, cluster_has_language_analyzers, first_index_name,
    mention_index_template, mention_mappings, setup_indices,
)

__all__ = [
    "AlertIndexer", "BulkResult", "ElasticsearchAccessError", "IndexerStats", "LANGUAGE_ANALYZERS", "MentionIndexer",
    "RETRY_ON_CONFLICT", "RETRY_ON_STATUS", "SetupReport", "TEMPLATE_VERSION", "access_problem", "alert_mappings",
    "async_client", "check_access", "client_options", "cluster_has_language_analyzers", "first_index_name",
    "is_retryable", "mention_index_template", "mention_mappings", "setup_indices", "sync_client",
]
