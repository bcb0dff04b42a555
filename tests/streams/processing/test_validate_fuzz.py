"""Property tests: no input makes validation raise, and whatever validates can be indexed as JSON."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.processing.validate import Invalid, parse_mention
from streams.schema import DeadLetter, EnrichedMention, Mention

json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(json_leaf, lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=20)

hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("\u200b\u200c\u200d\u2060\ufeff \t\n\x00\x07")),
    st.just("<script>alert(1)</script>"),
    st.just("😀" * 50),
    st.text(min_size=1).map(lambda t: t * 50),
)
dates = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),  # naive
    st.integers(min_value=-(10**12), max_value=10**12),
    st.text(max_size=20),
)
mention_like = st.fixed_dictionaries(
    {"id": st.text(max_size=20) | st.integers(), "source": st.text(max_size=10), "text": hostile_text | json_values, "published_at": dates},
    optional={
        "author": st.fixed_dictionaries({"handle": st.text(max_size=10)}, optional={"followers": st.integers() | st.text(max_size=3)}) | json_values,
        "raw": json_values,
        "engagement": st.dictionaries(st.sampled_from(["likes", "shares", "replies", "views"]), st.integers() | st.text(max_size=3)),
        "kind": st.sampled_from(["post", "comment", "tweet", ""]),
        "title": st.text(max_size=30) | json_values,
    },
)


def _check(value: bytes) -> None:
    result = parse_mention(value)
    if isinstance(result, Invalid):
        assert result.reason and result.stage in ("decode", "validate")
        letter = DeadLetter.for_bytes(value, stage=result.stage, reason=result.reason, errors=result.errors)
        assert DeadLetter.model_validate_json(letter.to_json_bytes()).original() == value
    else:
        assert isinstance(result, Mention)
        doc = EnrichedMention(mention=result, lang="other", lang_confidence=0.0).to_document()
        json.dumps(doc, ensure_ascii=False).encode("utf-8")  # what the Elasticsearch client sends


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(value):
    _check(value)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(json_values)
def test_arbitrary_json_never_raises(value):
    _check(json.dumps(value).encode())


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(mention_like)
def test_mention_shaped_hostile_records_are_validated_or_refused_with_a_reason(value):
    _check(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))


def test_lone_surrogates_anywhere_are_refused_or_indexable():
    for field, value in (("text", "a\\ud800b"), ("raw", {"k": "\\udfff"}), ("title", "\\ud83d"), ("author", {"handle": "\\ud800"})):
        record = {"id": "s", "source": "t", "text": "ok", "published_at": "2026-01-01T00:00:00Z", field: value}
        raw = json.dumps(record).replace("\\\\u", "\\u").encode()
        _check(raw)
