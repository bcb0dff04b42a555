"""Vocabulary pruning: keep the SentencePiece pieces that Danish, Norwegian, Swedish and English use.

e5-small's XLM-R vocabulary has 250,002 pieces for 100 languages; its embedding table is 96M of the
model's 112M parameters. The pieces kept:

* the special tokens, and every single-character piece (so any text still tokenises, if more finely);
* every piece of the Viterbi segmentation of the words of ``wordfreq``'s word lists for da, nb, sv and
  en (all of each list; Nynorsk is covered by the Bokmål list and the project's own nn texts), as they
  appear mid-sentence, capitalised and in upper case;
* every piece of the project's train and dev texts and of e5's ``query: `` prefix.

A word whose best segmentation uses only kept pieces is segmented exactly as before (Viterbi over a
subset finds the same best path when that path survives), so the pruned model gives the same outputs on
such text; the build measures agreement on dev. Unknown words fall back to shorter pieces.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Callable, Iterable, Sequence

WORD_LANGS = ("da", "nb", "sv", "en")
WORDS_PER_LANG = 120_000  # the most frequent words of each list (da's list has ~29k)
PRUNER_VERSION = 2
# Letters of these scripts are kept as single pieces; others (CJK, Arabic, ...) become <unk>, which a
# Nordic-language model cannot read anyway. Symbols, emoji and digits are always kept.
_KEEP_LETTER_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


def word_list(lang: str, n: int = WORDS_PER_LANG) -> list[str]:
    import wordfreq

    return wordfreq.top_n_list(lang, n, wordlist="best")


def _keep_single(piece: str) -> bool:
    import unicodedata

    ch = piece.replace("\u2581", "")
    if not ch or ch.isascii():
        return True
    if unicodedata.category(ch)[0] != "L":
        return True  # symbols, emoji, punctuation, digits, marks
    return unicodedata.name(ch, "").startswith(_KEEP_LETTER_SCRIPTS)


def _is_number_piece(piece: str) -> bool:
    body = piece.replace("\u2581", "")
    return bool(body) and all(c.isdigit() or c in ".,:%-/" for c in body) and len(body) <= 5


def _variants(word: str) -> tuple[str, ...]:
    return (word, word[:1].upper() + word[1:], word.upper())


def kept_piece_ids(tokenizer, texts: Iterable[str], words: Iterable[str]) -> list[int]:
    """Sorted ids of the pieces to keep (see the module docstring)."""
    vocab = tokenizer.backend_tokenizer.get_vocab()
    keep = {i for i in tokenizer.all_special_ids}
    for piece, i in vocab.items():
        if (len(piece.replace("\u2581", "")) <= 1 and _keep_single(piece)) or _is_number_piece(piece):
            keep.add(i)
    batch: list[str] = []

    def flush() -> None:
        for ids in tokenizer(batch, add_special_tokens=False)["input_ids"]:
            keep.update(ids)
        batch.clear()

    for word in words:
        batch.extend(_variants(word))
        if len(batch) >= 20_000:
            flush()
    for text in texts:
        batch.append(text)
        if len(batch) >= 20_000:
            flush()
    flush()
    return sorted(keep)


def prune_tokenizer_json(tokenizer_json: dict, kept: Sequence[int]) -> dict:
    """A tokenizer.json whose Unigram vocabulary is ``kept`` (old ids, renumbered in order)."""
    new_id = {old: new for new, old in enumerate(kept)}
    out = json.loads(json.dumps(tokenizer_json))
    model = out["model"]
    model["vocab"] = [model["vocab"][old] for old in kept]
    model["unk_id"] = new_id[model["unk_id"]]
    out["added_tokens"] = [dict(t, id=new_id[t["id"]]) for t in out["added_tokens"] if t["id"] in new_id]
    post = out.get("post_processor") or {}
    for spec in (post.get("special_tokens") or {}).values():
        spec["ids"] = [new_id[i] for i in spec["ids"]]
    return out


def pruned_dir(cache_dir: Path, source: Path, kept: Sequence[int]) -> Path:
    h = hashlib.sha256(f"{PRUNER_VERSION}:{source.name}:".encode() + ",".join(map(str, kept)).encode()).hexdigest()[:12]
    return Path(cache_dir) / "models" / f"{source.name}-pruned-{h}"


def prune(source: Path, cache_dir: Path, texts: Sequence[str], progress: Callable[[str], None] = print) -> Path:
    """The converted encoder in ``source`` with its vocabulary pruned; cached in ``cache_dir/models``."""
    import torch
    from transformers import AutoTokenizer, BertModel

    from models.sentiment import quiet_transformers

    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(source)
    words: list[str] = []
    for lang in WORD_LANGS:
        words.extend(word_list(lang))
    kept = kept_piece_ids(tokenizer, texts, dict.fromkeys(words))
    target = pruned_dir(cache_dir, Path(source), kept)
    if (target / "config.json").is_file() and (target / "tokenizer.json").is_file():
        return target
    progress(f"pruning the vocabulary: {len(kept):,} of {len(tokenizer):,} pieces kept ({len(words):,} words of {', '.join(WORD_LANGS)})")
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with quiet_transformers():
        encoder = BertModel.from_pretrained(source, add_pooling_layer=False)
    index = torch.tensor(kept)
    old = encoder.embeddings.word_embeddings.weight.data
    emb = torch.nn.Embedding(len(kept), old.shape[1], padding_idx=kept.index(tokenizer.pad_token_id))
    emb.weight.data.copy_(old[index])
    encoder.embeddings.word_embeddings = emb
    encoder.config.vocab_size = len(kept)
    encoder.config.pad_token_id = kept.index(tokenizer.pad_token_id)
    for attr in ("bos_token_id", "eos_token_id"):
        value = getattr(encoder.config, attr, None)
        if value is not None and value in kept:
            setattr(encoder.config, attr, kept.index(value))
    with quiet_transformers():
        encoder.save_pretrained(tmp, safe_serialization=True)
    tj = json.loads((Path(source) / "tokenizer.json").read_text(encoding="utf-8"))
    (tmp / "tokenizer.json").write_text(json.dumps(prune_tokenizer_json(tj, kept), ensure_ascii=False), encoding="utf-8")
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        if (Path(source) / name).is_file():
            shutil.copy(Path(source) / name, tmp / name)
    (tmp / "pruning.json").write_text(json.dumps({"pieces_kept": len(kept), "pieces_before": len(tokenizer), "word_langs": WORD_LANGS, "words": len(words)}))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target
