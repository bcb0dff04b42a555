"""Sources: ingest agents that read mentions from somewhere and publish them to Kafka."""
