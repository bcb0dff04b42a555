from streams.schema import EnrichedMention, Mention, Sentiment
from streams.settings import Settings
from streams.sinks.elasticsearch import LANGUAGE_ANALYZERS, first_index_name, mention_index_template, mention_mappings


def _leaf_paths(properties, prefix=""):
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            yield from _leaf_paths(spec["properties"], f"{path}.")
        else:
            yield path


def test_template_targets_prefixed_indices_with_settings():
    settings = Settings(es_index_prefix="acme", es_shards=2, es_replicas=1)
    template = mention_index_template(settings, language_fields=False)
    assert template["index_patterns"] == ["acme-*"]
    assert template["template"]["settings"]["number_of_shards"] == 2
    assert template["template"]["settings"]["number_of_replicas"] == 1
    assert first_index_name("acme") == "acme-000001"


def test_language_sub_fields_only_when_cluster_has_analyzers():
    full = mention_mappings(language_fields=True)["properties"]
    minimal = mention_mappings(language_fields=False)["properties"]
    assert set(full["text"]["fields"]) == set(LANGUAGE_ANALYZERS)
    assert full["text"]["fields"]["no"]["analyzer"] == "norwegian"
    assert "fields" not in minimal["text"]
    assert minimal["text"]["analyzer"] == "standard"
    assert "keyword" in minimal["title"]["fields"]


def test_every_document_field_is_mapped():
    """The mapping is strict: a document field it does not know would be refused by Elasticsearch."""
    mapping = mention_mappings(language_fields=False)
    assert mapping["dynamic"] == "strict"
    mapped = set(_leaf_paths(mapping["properties"]))
    enriched = EnrichedMention(
        mention=Mention(
            id="a", source="s", url="u", title="t", text="x", author={"handle": "h", "display_name": "d", "followers": 1, "profile_url": "p"},
            published_at="2026-01-01T00:00:00Z", parent_id="p", kind="comment",
            engagement={"likes": 1, "shares": 1, "replies": 1, "views": 1}, raw={"k": "v"},
        ),
        lang="da", lang_confidence=1.0,
        sentiment=Sentiment(label="neutral", score=0.0, probabilities={"negative": 0.2, "neutral": 0.6, "positive": 0.2}, model_version="v"),
        brands=["b"], influence=1.0, reach=2.0, impact=3.0, ingested_at="2026-01-01T00:00:00Z",
    )
    doc = enriched.to_document()

    def paths(d, prefix=""):
        for key, value in d.items():
            if key == "raw":
                yield "raw"
            elif isinstance(value, dict):
                yield from paths(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}"

    assert set(paths(doc)) <= mapped


def test_expired_indices_keeps_the_write_index_and_young_ones():
    from streams.sinks.lifecycle import expired_indices

    day = 86_400_000
    now = 1000 * day
    indices = {
        "m-000001": {"newest_ms": now - 200 * day, "created_ms": now - 300 * day},
        "m-000002": {"newest_ms": now - 10 * day, "created_ms": now - 100 * day},
        "m-000003": {"newest_ms": None, "created_ms": now - 120 * day},  # empty: judged by creation
        "m-000004": {"newest_ms": now - 500 * day, "created_ms": now - 500 * day},  # the write index
    }
    assert expired_indices(indices, "m-000004", now, "90d") == ["m-000001", "m-000003"]
    import pytest

    with pytest.raises(ValueError, match="not an age"):
        expired_indices(indices, None, now, "ninety days")
