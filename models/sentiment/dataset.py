"""The labelled sentences: ``models/sentiment/data/{lang}.jsonl``, one JSON object per line.

Each object: ``{"id", "text", "label": negative|neutral|positive, "lang": da|nb|nn|sv|en,
"register": social|forum|review|customer_service|news|press|debate|blog, "split": train|dev|test, "tags": [...],
"targets": {brand: label}}``; ``split`` may be left out (it is then drawn from a hash of the id: 75 % train,
10 % dev, 15 % test, so nobody picks the test items), ``register`` defaults to customer_service (the first
1,500 items), ``targets`` is optional. Whatever files are there are read; the test split is never trained
on, and a training sentence whose text also occurs in dev or test is left out of training.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
LANGS: tuple[str, ...] = ("da", "nb", "nn", "sv", "en")
SPLITS: tuple[str, ...] = ("train", "dev", "test")
REGISTERS: tuple[str, ...] = ("social", "forum", "review", "customer_service", "news", "press", "debate", "blog")
DEFAULT_REGISTER = "customer_service"
#: Shares of the hash-drawn splits (per mille): train below 750, dev below 850, test above.
HASH_SPLIT = ((750, "train"), (850, "dev"), (1000, "test"))
DATA_DIR = Path(__file__).resolve().parent / "data"


class DataError(ValueError):
    """A data file has a line that is not a valid labelled sentence."""


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    label: str
    lang: str
    split: str
    tags: tuple[str, ...] = field(default_factory=tuple)
    register: str = DEFAULT_REGISTER
    targets: tuple[tuple[str, str], ...] = ()  # (brand, label) where stances differ by brand

    @property
    def label_id(self) -> int:
        return LABELS.index(self.label)


def _parse(line: str, where: str) -> Example:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a JSON object")
    missing = [k for k in ("id", "text", "label", "lang") if k not in obj]
    if missing:
        raise DataError(f"{where}: missing {', '.join(missing)}")
    text, label, lang = obj["text"], obj["label"], obj["lang"]
    split = obj.get("split") or hash_split(str(obj["id"]))
    register = obj.get("register") or DEFAULT_REGISTER
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: empty text")
    if label not in LABELS:
        raise DataError(f"{where}: label {label!r} is not one of {', '.join(LABELS)}")
    if lang not in LANGS:
        raise DataError(f"{where}: lang {lang!r} is not one of {', '.join(LANGS)}")
    if split not in SPLITS:
        raise DataError(f"{where}: split {split!r} is not one of {', '.join(SPLITS)}")
    if register not in REGISTERS:
        raise DataError(f"{where}: register {register!r} is not one of {', '.join(REGISTERS)}")
    tags = obj.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise DataError(f"{where}: tags must be a list of strings")
    targets = obj.get("targets") or {}
    if not isinstance(targets, dict) or not all(isinstance(k, str) and v in LABELS for k, v in targets.items()):
        raise DataError(f"{where}: targets must map brand names to one of {', '.join(LABELS)}")
    return Example(str(obj["id"]), text, label, lang, split, tuple(tags), register, tuple(sorted(targets.items())))


def hash_split(ident: str) -> str:
    """The split of an item without one: from sha256 of its id, so it never depends on file order."""
    bucket = int(hashlib.sha256(ident.encode("utf-8")).hexdigest()[:8], 16) % 1000
    return next(name for limit, name in HASH_SPLIT if bucket < limit)


def data_files(data_dir: Path | None = None) -> list[Path]:
    return sorted(Path(data_dir or DATA_DIR).glob("*.jsonl"))


def load_examples(data_dir: Path | None = None) -> list[Example]:
    """Every labelled sentence in ``data_dir`` (default: the package's data directory), in file order."""
    examples: list[Example] = []
    seen: dict[str, str] = {}
    for path in data_files(data_dir):
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                ex = _parse(line, f"{path}:{n}")
                if ex.id in seen:
                    raise DataError(f"{path}:{n}: id {ex.id!r} already used in {seen[ex.id]}")
                seen[ex.id] = f"{path.name}:{n}"
                examples.append(ex)
    return examples


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


@dataclass
class Splits:
    train: list[Example]
    dev: list[Example]
    test: list[Example]
    dropped_from_train: list[Example] = field(default_factory=list)

    def all(self) -> list[Example]:
        return [*self.train, *self.dev, *self.test]


def split_examples(examples: Iterable[Example]) -> Splits:
    """Train/dev/test; training sentences that repeat a dev or test text are dropped (no leakage)."""
    examples = list(examples)
    held_out = {_key(e.text) for e in examples if e.split != "train"}
    train, dropped = [], []
    for e in examples:
        if e.split == "train":
            (dropped if _key(e.text) in held_out else train).append(e)
    return Splits(
        train=train,
        dev=[e for e in examples if e.split == "dev"],
        test=[e for e in examples if e.split == "test"],
        dropped_from_train=dropped,
    )


def data_fingerprint(examples: Iterable[Example]) -> str:
    """sha256 over the sentences (order-independent), for the model version."""
    h = hashlib.sha256()
    for row in sorted(json.dumps([e.id, e.text, e.label, e.lang, e.split, e.register, e.targets], ensure_ascii=False) for e in examples):
        h.update(row.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def register_summary(examples: Iterable[Example]) -> dict[str, dict[str, int]]:
    """{lang: {register: count}}."""
    counts: Counter = Counter((e.lang, e.register) for e in examples)
    out: dict[str, dict[str, int]] = {}
    for (lang, register), n in sorted(counts.items()):
        out.setdefault(lang, {})[register] = n
    return out


def summary(examples: Iterable[Example]) -> dict[str, dict[str, int]]:
    """{lang: {split: count}}."""
    counts: Counter = Counter((e.lang, e.split) for e in examples)
    out: dict[str, dict[str, int]] = {}
    for (lang, split), n in sorted(counts.items()):
        out.setdefault(lang, {})[split] = n
    return out
