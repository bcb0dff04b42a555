"""The intent data: ``models/intent/data/*.jsonl`` (the guidelines: ``data/GUIDELINES.md``).

Two kinds of file per language:

* ``<lang>-labelled.jsonl``: texts of the sentiment data (same ids), labelled for intent. The sentiment
  encoder was fine-tuned on many of them, so their features are not a fair test: they are only trained on.
* ``<lang>-written.jsonl``: texts written for intent (ids ``<lang>-iNNNN``); split by a hash of the id
  (``models.sentiment.dataset.hash_split``: 75 % train, 10 % dev, 15 % test). Only these are tested on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from models.intent import INTENTS
from models.sentiment.dataset import REGISTERS, hash_split

DATA_DIR = Path(__file__).parent / "data"
LANGS = ("da", "nb", "nn", "sv", "en")


class IntentDataError(ValueError):
    pass


@dataclass(frozen=True)
class IntentExample:
    id: str
    text: str
    intent: str
    lang: str
    register: str
    split: str  # train / dev / test
    written: bool  # written for intent (testable) rather than relabelled sentiment text
    tags: tuple[str, ...] = ()

    @property
    def label_id(self) -> int:
        return INTENTS.index(self.intent)


def _parse(line: str, where: str, written: bool) -> IntentExample:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise IntentDataError(f"{where}: not JSON: {exc}") from None
    for key in ("id", "text", "intent", "lang", "register"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise IntentDataError(f"{where}: field {key!r} missing or empty")
    if obj["intent"] not in INTENTS:
        raise IntentDataError(f"{where}: intent {obj['intent']!r} is not one of {', '.join(INTENTS)}")
    if obj["lang"] not in LANGS:
        raise IntentDataError(f"{where}: lang {obj['lang']!r} is not one of {', '.join(LANGS)}")
    if obj["register"] not in REGISTERS:
        raise IntentDataError(f"{where}: register {obj['register']!r} is not one of {', '.join(REGISTERS)}")
    split = hash_split(obj["id"]) if written else "train"
    return IntentExample(obj["id"], obj["text"].strip(), obj["intent"], obj["lang"], obj["register"], split, written, tuple(obj.get("tags") or ()))


def data_files(data_dir: Path | None = None) -> list[Path]:
    return sorted(Path(data_dir or DATA_DIR).glob("*.jsonl"))


def load_examples(data_dir: Path | None = None) -> list[IntentExample]:
    """Every intent example; a text that appears twice is kept once (its first labelling)."""
    examples: list[IntentExample] = []
    ids: set[str] = set()
    texts: set[str] = set()
    for path in data_files(data_dir):
        written = "-written" in path.stem  # <lang>-written.jsonl, <lang>-written2.jsonl, ...
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                example = _parse(line, f"{path.name}:{n}", written)
                if example.id in ids:
                    raise IntentDataError(f"{path.name}:{n}: id {example.id!r} appears twice")
                ids.add(example.id)
                key = " ".join(example.text.casefold().split())
                if key in texts:
                    continue
                texts.add(key)
                examples.append(example)
    return examples


def fingerprint(examples: list[IntentExample]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps([e.id, e.text, e.intent, e.lang, e.register], ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:12]
