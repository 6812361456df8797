"""keras-hub tokenizers in JavaScript (exporter/runtime/webnets-tokenizers.js): the same token ids as
keras-hub, exactly, on a held corpus (tests/text_corpus.py).

Every vocabulary is made here, offline, in seconds: WordPiece and byte-level BPE with Hugging Face
`tokenizers`' trainers, SentencePiece models (unigram and BPE; nmt_nfkc, nfkc_cf and identity
normalization; byte fallback; user-defined symbols) with `sentencepiece`'s trainer, all on Moby-Dick.
keras-hub's own classes (BertTokenizer, GPT2Tokenizer, GemmaTokenizer, LlamaTokenizer) are built from
them and go through the spec writer (exporter/text/hub_tokenizers.py). One Node process runs every
tokenizer over the corpus; ids, pieces and detokenized text are compared with keras-hub's.
"""

import io
import json
import subprocess
import unicodedata
from pathlib import Path

import pytest

from exporter.errors import ExportError
from exporter.text import TOKENIZERS_FILE, tokenizer_spec
from tests.text_corpus import corpus, moby_dick_paragraphs

keras_hub = pytest.importorskip("keras_hub")
spm = pytest.importorskip("sentencepiece")
hf = pytest.importorskip("tokenizers")

REPO = Path(__file__).resolve().parent.parent
NODE_RUNNER = REPO / "tests" / "tokenizers_node.js"
TEXTS = corpus()
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_ASSETS = {}  # the trained vocabularies, for the layer tests (filled by the hub_tokenizers fixture)
# Tokenizers whose speed the Node run measures over the whole book (one per algorithm).
TIMED = ("bert", "gpt2", "spm_unigram_nmt", "gemma")


def _train_word_piece(paragraphs, lowercase):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=lowercase)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(paragraphs, trainers.WordPieceTrainer(vocab_size=900, special_tokens=BERT_SPECIALS,
                                                                  show_progress=False))
    vocabulary = [token for token, _ in sorted(tok.get_vocab().items(), key=lambda kv: kv[1])]
    # Pieces the book lacks, so non-ASCII words and suffixes are really looked up.
    return vocabulary + ["你", "好", "世", "界", "é", "##é", "ß", "##ß", "😀", "##😀", "ω", "##ς", "caf", "##é"]


def _train_byte_pair(paragraphs, use_regex=True):
    """GPT-2 style; use_regex=False learns merges across words ("dĠthe"), as keras-hub applies them."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=use_regex)
    tok.train_from_iterator(paragraphs, trainers.BpeTrainer(
        vocab_size=900, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    model = json.loads(tok.to_str())["model"]
    return model["vocab"], [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]


def _train_sentence_piece(paragraphs, **options):
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(paragraphs), model_writer=buffer, minloglevel=2,
                                   **{"vocab_size": 600, **options})
    return buffer.getvalue()


@pytest.fixture(scope="module")
def hub_tokenizers(tmp_path_factory):
    """name -> keras-hub tokenizer, each built on a vocabulary trained here."""
    rules = tmp_path_factory.mktemp("spm") / "denormalization.tsv"
    rules.write_text("74 68\t54 48\n2c\t3b 20\n")  # decoded text: "th" -> "TH", "," -> "; "
    book = moby_dick_paragraphs()
    training = book[::3]
    lower, cased = _train_word_piece(training, True), _train_word_piece(training, False)
    vocab, merges = _train_byte_pair(training)
    wide_vocab, wide_merges = _train_byte_pair(training, use_regex=False)
    short = training[:700]
    gemma = _train_sentence_piece(short, model_type="bpe", byte_fallback=True, normalization_rule_name="identity",
                                  add_dummy_prefix=False, remove_extra_whitespaces=False, split_digits=True,
                                  pad_id=0, eos_id=1, bos_id=2, unk_id=3, pad_piece="<pad>", eos_piece="<eos>",
                                  bos_piece="<bos>", user_defined_symbols=["<start_of_turn>", "<end_of_turn>", "\t"])
    llama = _train_sentence_piece(short, model_type="bpe", byte_fallback=True, normalization_rule_name="identity",
                                  remove_extra_whitespaces=False, unk_id=0, bos_id=1, eos_id=2, pad_id=-1)
    global _ASSETS
    _ASSETS = {"lower": lower, "vocab": vocab, "merges": merges, "gemma": gemma}
    tokenizers = {
        "bert": keras_hub.models.BertTokenizer(vocabulary=lower, lowercase=True),
        "word_piece_lower_strip": keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=lower, lowercase=True, strip_accents=True, special_tokens=["[CLS]", "[SEP]", "[MASK]"],
            special_tokens_in_strings=True),
        "word_piece_cased": keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=cased, split_on_cjk=False, sequence_length=64),
        "word_piece_unsplit": keras_hub.tokenizers.WordPieceTokenizer(vocabulary=lower, split=False, lowercase=True),
        "gpt2": keras_hub.models.GPT2Tokenizer(vocabulary=vocab, merges=merges),
        "byte_pair_prefix": keras_hub.tokenizers.BytePairTokenizer(
            vocabulary=vocab, merges=merges, add_prefix_space=True, sequence_length=48,
            unsplittable_tokens=["<|endoftext|>", "<|pad|>", "<|end|>"]),
        "byte_pair_across_words": keras_hub.tokenizers.BytePairTokenizer(vocabulary=wide_vocab, merges=wide_merges),
        "spm_unigram_nmt": keras_hub.tokenizers.SentencePieceTokenizer(
            proto=_train_sentence_piece(short, model_type="unigram", user_defined_symbols=["<start_of_turn>"]),
            add_bos=True, add_eos=True),
        "spm_unigram_nfkc_cf_bytes": keras_hub.tokenizers.SentencePieceTokenizer(
            proto=_train_sentence_piece(short, model_type="unigram", normalization_rule_name="nfkc_cf",
                                        byte_fallback=True, add_dummy_prefix=False), sequence_length=80),
        "spm_unigram_denormalized": keras_hub.tokenizers.SentencePieceTokenizer(
            proto=_train_sentence_piece(short[:300], model_type="unigram", vocab_size=300,
                                        denormalization_rule_tsv=str(rules))),
        "spm_bpe_nmt_suffix": keras_hub.tokenizers.SentencePieceTokenizer(
            proto=_train_sentence_piece(short, model_type="bpe", treat_whitespace_as_suffix=True)),
        "spm_bpe_across_words": keras_hub.tokenizers.SentencePieceTokenizer(
            proto=_train_sentence_piece(short, model_type="bpe", split_by_whitespace=False,
                                        allow_whitespace_only_pieces=True, remove_extra_whitespaces=False)),
        "gemma": keras_hub.models.GemmaTokenizer(proto=gemma),
        "llama": keras_hub.models.LlamaTokenizer(proto=llama),
    }
    return tokenizers


def _as_list(ids):
    return [int(i) for i in (ids.tolist() if hasattr(ids, "tolist") else ids)]


@pytest.fixture(scope="module")
def references(hub_tokenizers):
    """keras-hub's ids, pieces and detokenized text for every corpus line (eager calls, one line each)."""
    out = {}
    for name, tok in hub_tokenizers.items():
        ids = [_as_list(tok(text)) for text in TEXTS]
        out[name] = {"ids": ids, "decoded": [tok.detokenize(row) if row else tok.detokenize([]) for row in ids]}
        if name.startswith(("spm", "gemma", "llama")):
            out[name]["pieces"] = [tok._sentence_piece_spm.Encode(t, out_type=str, add_bos=tok.add_bos,
                                                                 add_eos=tok.add_eos) for t in TEXTS]
    return out


def _all_code_points_text():
    """Every code point but the surrogates, each followed by a space (keras-hub classifies one by one)."""
    return "".join(chr(c) + " " for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


@pytest.fixture(scope="module")
def node(hub_tokenizers, references, tmp_path_factory):
    """One Node process: every tokenizer over the corpus, decoding keras-hub's ids, timing on the book."""
    directory = tmp_path_factory.mktemp("tokenizers")
    specs = {name: tokenizer_spec(tok) for name, tok in hub_tokenizers.items()}
    everything = _all_code_points_text()
    job = {
        "script": str(TOKENIZERS_FILE),
        "specs": specs,
        "texts": TEXTS,
        "decode": {name: ref["ids"] for name, ref in references.items()},
        "pretokenize": {"word_piece_lower_strip": [everything]},
        "speed": {"names": list(TIMED), "texts": moby_dick_paragraphs()},
    }
    (directory / "job.json").write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    subprocess.run(["node", str(NODE_RUNNER), str(directory / "job.json"), str(directory / "out.json")],
                   cwd=REPO, check=True, timeout=300)
    results = json.loads((directory / "out.json").read_text(encoding="utf-8"))
    for name, result in results.items():
        assert "error" not in result, f"{name}: {result['error']}"
    return {"specs": specs, "results": results, "everything": everything}


NAMES = ["bert", "word_piece_lower_strip", "word_piece_cased", "word_piece_unsplit", "gpt2", "byte_pair_prefix",
         "byte_pair_across_words", "spm_unigram_nmt", "spm_unigram_nfkc_cf_bytes", "spm_unigram_denormalized",
         "spm_bpe_nmt_suffix",
         "spm_bpe_across_words", "gemma", "llama"]


_IN_PAGE = """([specs, texts, book, timed]) => {
  const out = {ids: {}, speed: {}};
  for (const [name, spec] of Object.entries(specs)) out.ids[name] = webnetsTokenizers.tokenizer(spec).encodeBatch(texts);
  for (const name of timed) {  // a fresh tokenizer (empty word caches), unpadded, over the whole book
    const tok = webnetsTokenizers.tokenizer(Object.assign({}, specs[name], {sequence_length: null}));
    let tokens = 0;
    const start = performance.now();
    for (const line of book) tokens += tok.encode(line).length;
    out.speed[name] = {tokens, ms: performance.now() - start};
  }
  return out;
}"""


@pytest.fixture(scope="module")
def in_chromium(node):
    """The same specs and corpus in a page (headless Chromium): ids, and tokens/s on Moby-Dick."""
    from tests.browser import chromium

    with chromium() as browser:
        page = browser.new_page()
        page.add_script_tag(content=TOKENIZERS_FILE.read_text(encoding="utf-8"))
        return page.evaluate(_IN_PAGE, [node["specs"], TEXTS, moby_dick_paragraphs(), list(TIMED)])


def test_token_ids_identical_in_chromium(in_chromium, references):
    for name in NAMES:
        assert in_chromium["ids"][name] == references[name]["ids"], name
    for name, speed in in_chromium["speed"].items():
        rate = speed["tokens"] / (speed["ms"] / 1000)
        print(f"{name}: {rate / 1e6:.2f}M tokens/s in Chromium ({speed['tokens']} tokens)")
        assert rate > 1e5, (name, speed)


@pytest.mark.parametrize("name", NAMES)
def test_token_ids_identical(node, references, name):
    got, want = node["results"][name]["ids"], references[name]["ids"]
    wrong = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    assert len(got) == len(want) == len(TEXTS)
    assert not wrong, (f"{len(wrong)} of {len(TEXTS)} lines differ; first {TEXTS[wrong[0]][:80]!r}: "
                       f"JS {got[wrong[0]][:40]} keras-hub {want[wrong[0]][:40]}")
    assert sum(len(row) for row in want) >= len(TEXTS)  # the corpus really produced tokens


@pytest.mark.parametrize("name", NAMES)
def test_decode_identical(node, references, name):
    got, want = node["results"][name]["decoded"], references[name]["decoded"]
    wrong = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    assert not wrong, f"{len(wrong)} lines differ; first: JS {got[wrong[0]][:80]!r} keras-hub {want[wrong[0]][:80]!r}"


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith(("spm", "gemma", "llama"))])
def test_sentence_piece_pieces_identical(node, references, name):
    """The pieces (byte-fallback <0xNN>, merged unknown runs) are sentencepiece's own."""
    assert node["results"][name]["pieces"] == references[name]["pieces"]


def test_word_piece_classifies_every_code_point_as_keras_hub(node, hub_tokenizers):
    """Whitespace, control, punctuation, CJK, accents, NFKC casefolding: each of the 1,112,064 code points
    (the tables webnets-tokenizers.js carries for them come from exporter/text/unicode_tables.py)."""
    from keras_hub.src.tokenizers.word_piece_tokenizer import pretokenize_python

    name = "word_piece_lower_strip"
    tok = hub_tokenizers[name]
    want = pretokenize_python(node["everything"], tok.lowercase, tok.strip_accents, tok.split, tok.split_on_cjk)
    got = node["results"][name]["pretokenized"][0]
    if got != want:
        first = next(i for i, (g, w) in enumerate(zip(got, want)) if g != w)
        raise AssertionError(f"word {first}: JS {got[first]!r} keras-hub {want[first]!r} (lengths {len(got)}, "
                             f"{len(want)}); after a Python or `regex` upgrade, run "
                             "`python -m exporter.text.unicode_tables && make js`")
    assert len(want) > 1_000_000


def test_write_tokenizer_files(hub_tokenizers, tmp_path):
    from exporter.text import write_tokenizer_files

    spec_path, script_path = write_tokenizer_files(hub_tokenizers["gpt2"], tmp_path)
    assert json.loads(spec_path.read_text(encoding="utf-8")) == tokenizer_spec(hub_tokenizers["gpt2"])
    assert script_path.read_bytes() == TOKENIZERS_FILE.read_bytes()


def test_specs_come_from_keras_hub_model_classes(node):
    specs = node["specs"]
    assert {specs[n]["class_name"] for n in ("bert", "gpt2", "gemma", "llama")} == {
        "BertTokenizer", "GPT2Tokenizer", "GemmaTokenizer", "LlamaTokenizer"}
    assert specs["gemma"]["pad_id"] == 0 and specs["gemma"]["model_type"] == "bpe"
    assert specs["gemma"]["normalizer"]["precompiled_charsmap"] is None  # identity
    assert specs["spm_unigram_nmt"]["normalizer"]["precompiled_charsmap"]  # nmt_nfkc's charsmap travels
    assert specs["spm_unigram_denormalized"]["denormalizer"]["precompiled_charsmap"]
    assert specs["spm_unigram_nmt"]["denormalizer"] is None
    assert specs["gpt2"]["added_tokens"] == [["<|endoftext|>", specs["gpt2"]["vocabulary"]["<|endoftext|>"]]]
    assert specs["bert"]["special_tokens_ids"]["cls_token_id"] == BERT_SPECIALS.index("[CLS]")
    assert json.loads(json.dumps(specs)) == specs  # plain JSON


def test_cut_rules_cover_both_paths(node):
    """Merges learned across words make the JavaScript merge whole texts (no word cache): both ways are
    covered above by exact ids."""
    specs = node["specs"]
    crossing = [t for t in specs["byte_pair_across_words"]["vocabulary"] if "Ġ" in t[1:] and not t.startswith("ĠĠ")]
    assert any(t[t.index("Ġ", 1) - 1] != "Ġ" for t in crossing)
    pieces = [p for p, _, _ in specs["spm_bpe_across_words"]["pieces"]]
    assert any("▁" in p[1:] and p[p.index("▁", 1) - 1] != "▁" for p in pieces)


def test_speed_on_moby_dick(node):
    """Tokens per second in Node over the whole book (2,557 paragraphs), a fresh tokenizer each."""
    speeds = {name: node["results"][name]["speed"] for name in TIMED}
    rates = {name: s["tokens"] / s["ms"] * 1000 for name, s in speeds.items()}
    print("tokens/s in Node:", {name: round(r) for name, r in rates.items()})
    assert all(s["tokens"] > 300_000 for s in speeds.values())  # the whole book, not a sample
    assert min(rates.values()) > 100_000, rates


def test_model_proto_reader_matches_sentencepiece(hub_tokenizers, node):
    """Pieces, float32 scores and types read from the proto agree with sentencepiece's own accessors."""
    for name in [n for n in NAMES if n.startswith(("spm", "gemma", "llama"))]:
        processor = hub_tokenizers[name]._sentence_piece_spm
        pieces = node["specs"][name]["pieces"]
        assert len(pieces) == processor.get_piece_size()
        for i, (piece, score, kind) in enumerate(pieces):
            assert piece == processor.id_to_piece(i) and score == processor.get_score(i)
            assert (kind == 2, kind == 3, kind == 5, kind == 6) == (
                processor.is_unknown(i), processor.is_control(i), processor.is_unused(i), processor.is_byte(i))


class _Shouting(keras_hub.tokenizers.WordPieceTokenizer):
    def tokenize(self, inputs):
        return super().tokenize(inputs.upper())


def _refusal(tokenizer):
    with pytest.raises(ExportError) as error:
        tokenizer_spec(tokenizer)
    message = str(error.value)
    assert "Fix:" in message and "\n" not in message
    return message


def test_refuses_what_it_does_not_implement(hub_tokenizers):
    from tokenizers import pre_tokenizers

    assert "ByteTokenizer" in _refusal(keras_hub.tokenizers.ByteTokenizer())
    assert "overrides tokenize" in _refusal(_Shouting(vocabulary=["[UNK]", "a"]))
    gpt2 = hub_tokenizers["gpt2"]
    python_off = keras_hub.tokenizers.BytePairTokenizer(
        vocabulary=dict(gpt2.vocabulary), merges=gpt2.merges, _allow_python_workflow=False)
    assert "_allow_python_workflow=False" in _refusal(python_off)
    changed = keras_hub.models.GPT2Tokenizer(vocabulary=dict(gpt2.vocabulary), merges=gpt2.merges)
    changed._tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    assert "ByteLevel" in _refusal(changed)
    char = _train_sentence_piece(moby_dick_paragraphs()[:50], model_type="char", vocab_size=60)
    assert "model_type is CHAR" in _refusal(keras_hub.tokenizers.SentencePieceTokenizer(proto=char))


# ---- The tokenizer inside an exported model: WebnetsTokenizer (strings in, ids out) ----

def _tokenizer_models():
    """(name, build, exact): models that take raw strings; `exact` ones output the ids themselves."""
    import keras

    def make(kind, length):
        if kind == "bert":
            return keras_hub.models.BertTokenizer(vocabulary=_ASSETS["lower"], lowercase=True, sequence_length=length)
        if kind == "gpt2":
            return keras_hub.models.GPT2Tokenizer(vocabulary=_ASSETS["vocab"], merges=_ASSETS["merges"],
                                                  sequence_length=length)
        return keras_hub.models.GemmaTokenizer(proto=_ASSETS["gemma"], sequence_length=length)

    def ids_model(kind):
        def build():
            inputs = keras.Input(shape=(), dtype="string")
            return keras.Model(inputs, make(kind, 40)(inputs))
        return build

    def classifier(kind):
        def build():
            tokenizer = make(kind, 24)
            inputs = keras.Input(shape=(), dtype="string")
            x = keras.layers.Embedding(tokenizer.vocabulary_size(), 8)(tokenizer(inputs))
            x = keras.layers.GlobalAveragePooling1D()(x)
            return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
        return build

    return ([(f"{kind}_ids", ids_model(kind), True) for kind in ("bert", "gpt2", "gemma")]
            + [(f"{kind}_classifier", classifier(kind), False) for kind in ("bert", "gemma")])


@pytest.fixture(scope="module")
def layer_results(hub_tokenizers, tmp_path_factory):
    import numpy as np
    from tests.parity_helper import Case, run_cases

    texts = np.array(TEXTS, dtype=object)  # a str array would drop trailing NULs, which the corpus has
    cases = [Case(name, build, inputs=lambda model: [texts]) for name, build, _ in _tokenizer_models()]
    return run_cases(cases, tmp_path_factory.mktemp("tokenizer-models"))


@pytest.mark.parametrize("name,exact", [(name, exact) for name, _, exact in _tokenizer_models()])
def test_exported_model_takes_raw_strings(layer_results, tmp_path_factory, name, exact):
    result = layer_results[name]
    assert result.error is None, result.error
    assert result.rel_error == 0 if exact else result.rel_error <= 1e-5, result.rel_error
    layers = result.model_json["modelTopology"]["model_config"]["config"]["layers"]
    assert [layer["class_name"] for layer in layers][:2] == ["InputLayer", "WebnetsTokenizer"]
    assert layers[0]["config"]["dtype"] == "string"


def test_exported_model_carries_webnets_tokenizers_only(hub_tokenizers, tmp_path):
    import keras
    from exporter.pipeline import write_layers_model

    tokenizer = keras_hub.models.GPT2Tokenizer(vocabulary=_ASSETS["vocab"], merges=_ASSETS["merges"],
                                               sequence_length=8)
    inputs = keras.Input(shape=(), dtype="string")
    written = write_layers_model(keras.Model(inputs, tokenizer(inputs)), tmp_path, log=lambda *a: None)
    assert [r["file"] for r in written.requires] == ["webnets-tokenizers.js"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "webnets-tokenizers.js"]
    assert (tmp_path / "webnets-tokenizers.js").read_bytes() == TOKENIZERS_FILE.read_bytes()


def test_exported_model_survives_tfjs_save_and_reload(hub_tokenizers, tmp_path):
    """TF.js saves the layer config back (snake_case, its string rewriting) and loads it again."""
    import keras
    from exporter.pipeline import write_layers_model

    tokenizer = keras_hub.models.GemmaTokenizer(proto=_ASSETS["gemma"], sequence_length=12)
    inputs = keras.Input(shape=(), dtype="string")
    (tmp_path / "model").mkdir()
    write_layers_model(keras.Model(inputs, tokenizer(inputs)), tmp_path / "model", log=lambda *a: None)
    job = {"script": str(TOKENIZERS_FILE), "texts": [], "decode": {}, "reload": {"dir": str(tmp_path / "model"),
                                                                              "texts": TEXTS[8:14]}}
    (tmp_path / "job.json").write_text(json.dumps(job), encoding="utf-8")
    subprocess.run(["node", str(NODE_RUNNER), str(tmp_path / "job.json"), str(tmp_path / "out.json")], cwd=REPO,
                   check=True, timeout=120, capture_output=True)
    result = json.loads((tmp_path / "out.json").read_text())["reload"]
    want = [_as_list(row) for row in tokenizer(TEXTS[8:14])]
    assert result["before"] == want and result["after"] == want


def test_tokenizer_layer_refuses_ragged_and_string_outputs(hub_tokenizers, tmp_path):
    import keras
    from exporter.pipeline import write_layers_model

    for tokenizer, option in ((keras_hub.models.BertTokenizer(vocabulary=_ASSETS["lower"]), "sequence_length"),
                              (keras_hub.models.BertTokenizer(vocabulary=_ASSETS["lower"], sequence_length=4,
                                                              dtype="string"), "dtype")):
        inputs = keras.Input(shape=(), dtype="string")
        with pytest.raises(ExportError) as error:
            write_layers_model(keras.Model(inputs, tokenizer(inputs)), tmp_path / option, log=lambda *a: None)
        assert option in str(error.value) and "Fix:" in str(error.value)
