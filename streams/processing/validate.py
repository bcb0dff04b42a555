"""Turn the bytes of a Kafka record into a ``Mention``, or into the reason it cannot be one.

Pure: no I/O. The worker calls it for every record; what fails goes to the dead-letter topic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import ValidationError

from streams.schema import Mention

#: JSON nested deeper than this is hostile or broken; refusing it early keeps the worker's stack and
#: memory safe (json.loads itself would recurse until RecursionError).
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class Invalid:
    stage: str
    reason: str
    errors: list[dict]


def _depth_exceeded(raw: str, limit: int) -> bool:
    # A cheap scan: brackets inside strings are counted too, which only errs on the side of refusing
    # absurdly bracketed text, never of accepting deep nesting.
    depth = 0
    in_string = False
    escaped = False
    for ch in raw:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


class _NonStandardJSON(ValueError):
    pass


def _refuse_constant(name: str):
    # Python's json accepts NaN and Infinity; JSON (and Elasticsearch) do not.
    raise _NonStandardJSON(name)


def _errors_summary(exc: ValidationError) -> tuple[str, list[dict]]:
    errors = []
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(record)"
        errors.append({"field": loc, "type": err["type"], "message": err["msg"]})
        parts.append(f"{loc}: {err['msg']}")
    return "invalid mention: " + "; ".join(parts), errors


def parse_mention(value: bytes | None) -> Mention | Invalid:
    """Decode and validate one record value."""
    if value is None:
        return Invalid("decode", "empty record (no value; a tombstone?)", [])
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Invalid("decode", f"value is not valid UTF-8: {exc.reason} at byte {exc.start}", [])
    if _depth_exceeded(text, MAX_JSON_DEPTH):
        return Invalid("decode", f"JSON nested deeper than {MAX_JSON_DEPTH} levels", [])
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except _NonStandardJSON as exc:
        return Invalid("decode", f"value is not standard JSON: {exc} is not a JSON number", [])
    except json.JSONDecodeError as exc:
        return Invalid("decode", f"value is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", [])
    except RecursionError:
        return Invalid("decode", "JSON nested too deeply", [])
    if not isinstance(data, dict):
        return Invalid("validate", f"a mention must be a JSON object, got {type(data).__name__}", [])
    try:
        return Mention.model_validate(data)
    except ValidationError as exc:
        reason, errors = _errors_summary(exc)
        return Invalid("validate", reason, errors)
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. dates out of range
        return Invalid("validate", f"invalid mention: {exc}", [])
