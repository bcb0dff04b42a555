import json

from streams.processing.validate import MAX_JSON_DEPTH, Invalid, parse_mention
from streams.schema import Mention

GOOD = {"id": "m1", "source": "push", "text": "Hej DSB", "published_at": "2026-11-23T08:00:00Z"}


def test_valid_record_becomes_mention():
    result = parse_mention(json.dumps(GOOD).encode())
    assert isinstance(result, Mention) and result.id == "m1"


def test_bad_json_names_position():
    result = parse_mention(b'{"id": "m1", "text": ')
    assert isinstance(result, Invalid) and result.stage == "decode"
    assert "not JSON" in result.reason and "column" in result.reason


def test_invalid_utf8_is_decode_error_with_byte_offset():
    result = parse_mention(b'{"id": "\xc3\x28"}')
    assert isinstance(result, Invalid) and result.stage == "decode"
    assert "UTF-8" in result.reason and "at byte 8" in result.reason


def test_missing_text_names_the_field():
    data = dict(GOOD)
    del data["text"]
    result = parse_mention(json.dumps(data).encode())
    assert isinstance(result, Invalid) and result.stage == "validate"
    assert "text: Field required" in result.reason
    assert result.errors[0]["field"] == "text"


def test_wrong_types_are_reported_per_field():
    data = dict(GOOD, text=["not", "a", "string"], author={"handle": "x", "followers": "many"})
    result = parse_mention(json.dumps(data).encode())
    assert isinstance(result, Invalid)
    assert {e["field"] for e in result.errors} == {"text", "author.followers"}


def test_non_object_json_and_empty_value():
    assert parse_mention(b"[1, 2]").reason.startswith("a mention must be a JSON object")
    assert parse_mention(None).stage == "decode"


def test_deep_nesting_is_refused_before_parsing():
    deep = ("[" * (MAX_JSON_DEPTH + 1)) + ("]" * (MAX_JSON_DEPTH + 1))
    result = parse_mention(json.dumps(dict(GOOD, raw={"x": "placeholder"})).replace('"placeholder"', deep).encode())
    assert isinstance(result, Invalid) and "nested deeper" in result.reason


def test_brackets_inside_strings_do_not_count_as_nesting():
    result = parse_mention(json.dumps(dict(GOOD, text="[[[[" * 100)).encode())
    assert isinstance(result, Mention)


def test_nan_and_infinity_are_not_json():
    result = parse_mention(b'{"id": "m1", "source": "s", "text": "x", "published_at": "2026-11-23T08:00:00Z", "raw": {"v": NaN}}')
    assert isinstance(result, Invalid) and result.stage == "decode" and "NaN" in result.reason
