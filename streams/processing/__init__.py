"""Processing: the pure steps of enrichment (validation, language, brands, sentiment batching)."""
