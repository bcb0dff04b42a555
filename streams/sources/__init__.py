"""Sources: ingest agents that read mentions from somewhere and publish them to Kafka.

The machinery (``base``, ``http``, ``runner``, ``agent``, ``producer``, ``push``, ``text``, ``config``) is
here; the live sources are in :mod:`streams.sources.connectors` (one module each, and the registry), the
file and synthetic sources in :mod:`streams.sources.replay`.
"""
