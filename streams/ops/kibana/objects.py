"""Lytter's Kibana saved objects as data: where the shipped NDJSON lies, reading it, and the JSON inside its strings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Mapping

#: The shipped objects, next to the package in a checkout (and in the Docker image, whose working
#: directory is the project root).
REPO_NDJSON = Path(__file__).resolve().parents[3] / "deploy" / "kibana" / "lytter.ndjson"

#: Attributes Kibana stores as JSON strings (dotted paths inside ``attributes``).
NESTED_JSON = (
    "panelsJSON",
    "optionsJSON",
    "kibanaSavedObjectMeta.searchSourceJSON",
    "visState",
    "uiStateJSON",
    "fieldFormatMap",
    "fieldAttrs",
    "fields",
    "runtimeFieldMap",
    "typeMeta",
    "sourceFilters",
    "controlGroupInput.panelsJSON",
    "controlGroupInput.ignoreParentSettingsJSON",
    "state",  # Lens: an object in exports, a string in some hand-written files
)


class KibanaObjectsError(ValueError):
    """The NDJSON file cannot be read as saved objects (the message names the line)."""


def default_ndjson_path() -> Path:
    """The shipped ``lytter.ndjson``: in the checkout, else ``deploy/kibana/`` under the working directory."""
    for candidate in (REPO_NDJSON, Path.cwd() / "deploy" / "kibana" / "lytter.ndjson"):
        if candidate.is_file():
            return candidate
    return REPO_NDJSON


def parse_ndjson(text: str, source: str = "<ndjson>") -> list[dict[str, Any]]:
    """The saved objects of an NDJSON export (blank lines and the export's summary line are skipped)."""
    objects: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KibanaObjectsError(f"{source}:{number}: not JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise KibanaObjectsError(f"{source}:{number}: a saved object must be a JSON object, not {type(obj).__name__}")
        if "exportedCount" in obj and "type" not in obj:
            continue  # the summary line Kibana appends to an export
        missing = [key for key in ("id", "type", "attributes") if key not in obj]
        if missing:
            raise KibanaObjectsError(f"{source}:{number}: saved object without {', '.join(missing)}")
        if not isinstance(obj["attributes"], dict):
            raise KibanaObjectsError(f"{source}:{number}: {obj['type']}/{obj['id']}: attributes must be an object")
        if not isinstance(obj.get("references", []), list):
            raise KibanaObjectsError(f"{source}:{number}: {obj['type']}/{obj['id']}: references must be a list")
        objects.append(obj)
    if not objects:
        raise KibanaObjectsError(f"{source}: no saved objects")
    return objects


def load_objects(path: Path | str) -> list[dict[str, Any]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KibanaObjectsError(f"{path}: no such file (the Kibana saved objects, NDJSON)") from None
    except UnicodeDecodeError as exc:
        raise KibanaObjectsError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    return parse_ndjson(text, str(path))


def _get_path(attributes: Mapping[str, Any], dotted: str) -> Any:
    value: Any = attributes
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def nested_json(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON strings inside ``obj['attributes']``, parsed: ``{dotted path: value}``.

    Raises ``KibanaObjectsError`` naming the object and the attribute when one does not parse.
    """
    parsed: dict[str, Any] = {}
    for dotted in NESTED_JSON:
        raw = _get_path(obj.get("attributes", {}), dotted)
        if not isinstance(raw, str):
            continue
        try:
            parsed[dotted] = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise KibanaObjectsError(f"{_label(obj)}: attributes.{dotted} is not valid JSON ({exc.msg} at column {exc.colno})") from None
    return parsed


def _label(obj: Mapping[str, Any]) -> str:
    return f"{obj.get('type')}/{obj.get('id')}"


def summary(objects: Iterable[Mapping[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for obj in objects:
        counts[obj["type"]] = counts.get(obj["type"], 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
