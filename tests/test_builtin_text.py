"""Keras' string and lookup layers in TF.js: TextVectorization, StringLookup, IntegerLookup, Hashing,
HashedCrossing (exporter/layers/translators/text.py, webnets-layers.js' text section).

Every option combination is one parity case on raw strings (or integers), all run in one Node process;
token ids, hash buckets and counts must equal Keras' exactly, floats within 1e-4. The texts hold what
TensorFlow's string ops and JavaScript could disagree on: accents, Greek, Cyrillic, Turkish İ, CJK, emoji,
punctuation runs, ASCII and Unicode whitespace, empty strings, long texts. The hash tests run thousands of
strings of every FarmHash length branch (0-16, 17-32, 33-64, > 64 bytes) and every SipHash tail length
through Hashing and HashedCrossing, bit-exact against TensorFlow's buckets.
"""

import json
import subprocess

import keras
import numpy as np
import pytest

from exporter import export_keras_model
from exporter.errors import UnsupportedLayerError
from exporter.parity import verify
from exporter.parity.runtime import REPO_ROOT
from exporter.parity.tolerances import BROWSER_BOUND, FLOAT32_BOUND, max_relative_error
from exporter.pipeline import write_layers_model

from .parity_helper import Case, run_cases

L = keras.layers

# adapt() data: the vocabularies (and idf weights) the cases learn.
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "the QUICK brown fox!!! jumps... over the LAZY dog?",
    "Héllo wörld, Éléphant naïve café",
    "ΣΟΦΙΑ σοφία Привет привет İstanbul istanbul",
    "東京 タワー 東京タワー 😀 😀😀 👍🏽",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp\u3000ideographic",
    "don't stop---e-mail me @ home; (now) [ok] {fine} <tag> a_b snake_case_word",
    "",
    "“curly quotes” and 。CJK punctuation、here",
    "numbers 123 4.56 7,890",
]
# The texts every TextVectorization case runs on: seen, unseen, cased, empty, blank and long.
TEXTS = np.array([[t] for t in [
    "THE Quick BROWN fox", "ÉLÉPHANT Naïve CAFÉ", "İSTANBUL Istanbul", "東京タワー😀 😀", "", "   ", "\t\n\v\f\r",
    "a_b a-b a.b snake_case_word", "unknown words here", "ΣΟΦΙΑ!!! привет,", "x" * 300,
    "one two three four five six seven eight nine ten eleven twelve thirteen", "“curly” 。here、 and",
    "tabs\tand\u00a0nbsp\u3000ideographic\u2003em", "don't stop---e-mail", "numbers 123 4.56 7,890",
]])

VOCABULARY = ["red", "green_blue", "Éclair", "東京", "😀", "snake_case_token", "UPPER", "a b"]
WORDS = np.array([["red"], ["green_blue"], ["éclair"], ["Éclair"], ["東京"], ["😀"], ["snake_case_token"], ["UPPER"],
                  ["upper"], ["a b"], ["unknown"], [""], ["[UNK]"], ["oov_word"], ["🙂"], ["zzz"]])
WORD_ROWS = np.array([["red", "red", "東京"], ["unknown", "", "UPPER"], ["😀", "a b", "nope"], ["", "", ""]])
IDS = [12, 36, 1138, 42, -7, 99999]
ID_ROWS = np.array([[12, 36, 5], [0, 0, 1138], [-7, 3, 3], [99999, -1, 8]])
ID_COLUMN = np.array([[12], [0], [5], [-7], [1138], [-1], [99999], [123456], [-123456], [2 ** 31 - 1]])


def text_vectorization(case_id, shape=(1,), texts=TEXTS, adapt=True, exact=True, head=None, **options):
    """A TextVectorization model on `texts`; adapted on CORPUS unless given a vocabulary."""
    def build():
        inputs = keras.Input(shape=shape, dtype="string")
        layer = L.TextVectorization(**options)
        if adapt:
            layer.adapt(CORPUS)
        x = layer(inputs)
        return keras.Model(inputs, head(x) if head else x)

    return TextCase(case_id, build, inputs=lambda model: [texts], exact=exact)


def lookup(case_id, cls, data, shape=(1,), dtype="string", adapt=None, exact=True, **options):
    def build():
        inputs = keras.Input(shape=shape, dtype=dtype)
        layer = cls(**options)
        if adapt is not None:
            layer.adapt(adapt)
        return keras.Model(inputs, layer(inputs))

    return TextCase(case_id, build, inputs=lambda model: [data], exact=exact)


def hashing(case_id, data, dtype="string", shape=(1,), **options):
    def build():
        inputs = keras.Input(shape=shape, dtype=dtype)
        return keras.Model(inputs, L.Hashing(**options)(inputs))

    return TextCase(case_id, build, inputs=lambda model: [data])


def crossing(case_id, columns, dtypes, shape=(1,), **options):
    def build():
        inputs = [keras.Input(shape=shape, dtype=dtype) for dtype in dtypes]
        return keras.Model(inputs, L.HashedCrossing(**options)(tuple(inputs)))

    return TextCase(case_id, build, inputs=lambda model: list(columns))


class TextCase(Case):
    """A parity case whose outputs must also equal Keras' exactly (ids, buckets, counts, tf-idf products)."""

    def __init__(self, case_id, build, inputs, exact=True):
        super().__init__(case_id, build, inputs=inputs)
        self.exact = exact


def _saved_and_loaded(tmp_dir_name, **options):
    """The vocabulary and idf weights as the .keras file holds them (assets, variables), reloaded."""
    def build():
        import tempfile
        from pathlib import Path

        inputs = keras.Input(shape=(1,), dtype="string")
        layer = L.TextVectorization(**options)
        layer.adapt(CORPUS)
        model = keras.Model(inputs, layer(inputs))
        path = Path(tempfile.mkdtemp(prefix=tmp_dir_name)) / "model.keras"
        model.save(path)
        return keras.saving.load_model(path)

    return build


def _classifier(x):
    x = L.Embedding(64, 8)(x)
    return L.Dense(3)(L.GlobalAveragePooling1D()(x))


TV = [
    text_vectorization("tv_default"),
    text_vectorization("tv_standardize_none", standardize=None),
    text_vectorization("tv_standardize_lower", standardize="lower"),
    text_vectorization("tv_standardize_strip_punctuation", standardize="strip_punctuation"),
    text_vectorization("tv_split_none", split=None),
    text_vectorization("tv_split_none_sequence", split=None, output_sequence_length=3),
    text_vectorization("tv_split_character", split="character"),
    text_vectorization("tv_split_character_count", split="character", output_mode="count", standardize=None),
    text_vectorization("tv_ngrams_2", ngrams=2),
    text_vectorization("tv_ngrams_tuple", ngrams=(1, 3)),
    text_vectorization("tv_ngrams_character", split="character", ngrams=(2,), output_mode="multi_hot"),
    text_vectorization("tv_sequence_pad", output_sequence_length=16),
    text_vectorization("tv_sequence_truncate", output_sequence_length=3),
    text_vectorization("tv_max_tokens", max_tokens=12),
    text_vectorization("tv_multi_hot", output_mode="multi_hot"),
    text_vectorization("tv_count", output_mode="count"),
    text_vectorization("tv_tf_idf", output_mode="tf_idf"),
    text_vectorization("tv_tf_idf_bigrams", output_mode="tf_idf", ngrams=2),
    text_vectorization("tv_multi_hot_pad_to_max", output_mode="multi_hot", max_tokens=80, pad_to_max_tokens=True),
    text_vectorization("tv_tf_idf_pad_to_max", output_mode="tf_idf", max_tokens=80, pad_to_max_tokens=True),
    text_vectorization("tv_vocabulary_given", adapt=False, vocabulary=["the", "fox", "東京", "😀", "snake_case_word",
                                                                       "éléphant", "istanbul"]),
    text_vectorization("tv_tf_idf_given", adapt=False, output_mode="tf_idf", vocabulary=["the", "fox", "東京"],
                       idf_weights=[0.5, 1.25, 2.0]),
    text_vectorization("tv_rank1", shape=(), texts=TEXTS[:, 0], output_sequence_length=5),
    text_vectorization("tv_split_none_one_hot", split=None, output_mode="one_hot"),
    text_vectorization("tv_split_none_tokens_count", shape=(3,), texts=WORD_ROWS, split=None, output_mode="count"),
    text_vectorization("tv_split_none_tokens_ngrams", shape=(3,), texts=WORD_ROWS, split=None, ngrams=2),
    text_vectorization("tv_classifier", exact=False, output_sequence_length=10, max_tokens=64, head=_classifier),
    TextCase("tv_saved_tf_idf", _saved_and_loaded("tv-tf-idf-", output_mode="tf_idf", ngrams=2),
             inputs=lambda model: [TEXTS]),
    TextCase("tv_saved_int", _saved_and_loaded("tv-int-", output_sequence_length=8), inputs=lambda model: [TEXTS]),
]

IDF = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
STRING_LOOKUP = [
    lookup("sl_default", L.StringLookup, WORDS, vocabulary=VOCABULARY),
    lookup("sl_no_oov", L.StringLookup, np.array([[w] for w in VOCABULARY]), vocabulary=VOCABULARY, num_oov_indices=0),
    lookup("sl_oov_buckets", L.StringLookup, WORDS, vocabulary=VOCABULARY, num_oov_indices=5),
    lookup("sl_oov_buckets_salt", L.StringLookup, WORDS, vocabulary=VOCABULARY, num_oov_indices=7, salt=[3, 1234567]),
    lookup("sl_mask", L.StringLookup, WORDS, vocabulary=VOCABULARY, mask_token="", num_oov_indices=3),
    lookup("sl_mask_multi_hot", L.StringLookup, WORD_ROWS, shape=(3,), vocabulary=VOCABULARY, mask_token="",
           output_mode="multi_hot"),
    lookup("sl_invert", L.StringLookup, np.array([[0], [1], [2], [5], [8], [9], [40], [-3]]), dtype="int64",
           vocabulary=VOCABULARY, invert=True),
    lookup("sl_invert_mask", L.StringLookup, np.array([[0], [1], [2], [3], [9], [10], [11]]), dtype="int64",
           vocabulary=VOCABULARY, invert=True, mask_token="[MASK]", num_oov_indices=2, oov_token="out_of_vocab"),
    lookup("sl_one_hot", L.StringLookup, WORDS, vocabulary=VOCABULARY, output_mode="one_hot"),
    lookup("sl_multi_hot", L.StringLookup, WORD_ROWS, shape=(3,), vocabulary=VOCABULARY, output_mode="multi_hot"),
    lookup("sl_count", L.StringLookup, WORD_ROWS, shape=(3,), vocabulary=VOCABULARY, output_mode="count",
           num_oov_indices=2),
    lookup("sl_tf_idf", L.StringLookup, WORD_ROWS, shape=(3,), vocabulary=VOCABULARY, output_mode="tf_idf",
           idf_weights=IDF),
    lookup("sl_count_pad_to_max", L.StringLookup, WORD_ROWS, shape=(3,), vocabulary=VOCABULARY, output_mode="count",
           max_tokens=20, pad_to_max_tokens=True),
    lookup("sl_adapted_tf_idf", L.StringLookup, WORD_ROWS, shape=(3,), adapt=WORD_ROWS, output_mode="tf_idf"),
    lookup("sl_adapted", L.StringLookup, WORDS, adapt=np.array(CORPUS[0].split() + ["東京", "😀", "東京"])),
]

INTEGER_LOOKUP = [
    lookup("il_default", L.IntegerLookup, ID_COLUMN, dtype="int64", vocabulary=IDS),
    lookup("il_oov_floormod", L.IntegerLookup, ID_COLUMN, dtype="int64", vocabulary=IDS, num_oov_indices=3),
    lookup("il_oov_farmhash", L.IntegerLookup, ID_COLUMN, dtype="int64", vocabulary=IDS, num_oov_indices=4,
           oov_method="farmhash"),
    lookup("il_oov_farmhash_salt", L.IntegerLookup, ID_COLUMN, dtype="int64", vocabulary=IDS, num_oov_indices=4,
           oov_method="farmhash", salt=99),
    lookup("il_mask", L.IntegerLookup, ID_COLUMN, dtype="int64", vocabulary=IDS, mask_token=0),
    lookup("il_invert", L.IntegerLookup, np.array([[0], [1], [2], [6], [7], [70]]), dtype="int64", vocabulary=IDS,
           invert=True),
    lookup("il_one_hot", L.IntegerLookup, ID_COLUMN, dtype="int64", vocabulary=IDS, output_mode="one_hot"),
    lookup("il_multi_hot", L.IntegerLookup, ID_ROWS, shape=(3,), dtype="int64", vocabulary=IDS,
           output_mode="multi_hot", mask_token=0),
    lookup("il_count", L.IntegerLookup, ID_ROWS, shape=(3,), dtype="int64", vocabulary=IDS, output_mode="count"),
    lookup("il_tf_idf", L.IntegerLookup, ID_ROWS, shape=(3,), dtype="int64", vocabulary=IDS, output_mode="tf_idf",
           idf_weights=IDF[:6]),
    lookup("il_adapted", L.IntegerLookup, ID_COLUMN, dtype="int64", adapt=np.array([3, 3, 3, 5, 5, 12, 99999, 7])),
]

STRINGS = TEXTS.reshape(-1, 1)
FLOATS = np.array([[1.7], [-1.7], [0.0], [-0.0], [3.0], [2.5e9], [-7.9], [1e-3]], np.float32)
HASHING = [
    hashing("hash_strings", STRINGS, num_bins=1000),
    hashing("hash_strings_salt_int", STRINGS, num_bins=1000, salt=133),
    hashing("hash_strings_salt_pair", STRINGS, num_bins=64, salt=(2 ** 40 + 3, -5)),
    hashing("hash_strings_mask", STRINGS, num_bins=50, mask_value=""),
    hashing("hash_strings_one_hot", STRINGS, num_bins=7, output_mode="one_hot"),
    hashing("hash_rows_multi_hot", WORD_ROWS, shape=(3,), num_bins=9, output_mode="multi_hot"),
    hashing("hash_rows_count", WORD_ROWS, shape=(3,), num_bins=9, output_mode="count", mask_value="red"),
    hashing("hash_ints", ID_COLUMN, dtype="int64", num_bins=10007),
    hashing("hash_ints_mask_salt", ID_COLUMN, dtype="int64", num_bins=333, mask_value=0, salt=[7, 8]),
    hashing("hash_floats", FLOATS, dtype="float32", num_bins=997, mask_value=3),
    hashing("hash_one_bin", STRINGS, num_bins=1, mask_value=""),
]

CROSSING = [
    crossing("cross_string_int", [STRINGS[:10], ID_COLUMN], ["string", "int64"], num_bins=101),
    crossing("cross_int_int", [ID_COLUMN, ID_COLUMN[::-1].copy()], ["int64", "int64"], num_bins=5),
    crossing("cross_one_hot", [STRINGS[:10], ID_COLUMN], ["string", "int64"], num_bins=6, output_mode="one_hot"),
    crossing("cross_rank1", [STRINGS[:10, 0], ID_COLUMN[:, 0]], ["string", "int64"], shape=(), num_bins=17),
]

CASES = TV + STRING_LOOKUP + INTEGER_LOOKUP + HASHING + CROSSING


# ---- bulk hashes: every FarmHash length branch and every SipHash tail, thousands of strings at once ----
def _random_strings(count, seed=1):
    rng = np.random.default_rng(seed)
    alphabet = list("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,!?-_") + ["é", "ß", "東", "京", "😀", "Σ", "\t", "\n",
                                                                              "ÿ", "\u00a0", "İ", "\x00"]
    lengths = rng.integers(0, 150, size=count)
    strings = ["".join(rng.choice(alphabet, size=int(n))) for n in lengths]
    # Every UTF-8 byte length 0..140 at least once (ASCII fill), so each branch and tail is hit.
    strings[:141] = ["q" * n for n in range(141)]
    return np.array(strings).reshape(-1, 1)


BULK_STRINGS = _random_strings(4000)
BULK_INTS = np.random.default_rng(2).integers(-2 ** 31, 2 ** 31 - 1, size=(4000, 1))
# Two moduli: 2^31 - 1 and 2^30 pin down the 64-bit hash modulo their product (about 2^61).
BULK = [
    hashing("bulk_farmhash_prime", BULK_STRINGS, num_bins=2 ** 31 - 1),
    hashing("bulk_farmhash_pow2", BULK_STRINGS, num_bins=2 ** 30),
    hashing("bulk_siphash_prime", BULK_STRINGS, num_bins=2 ** 31 - 1, salt=(123456789, 987654321)),
    hashing("bulk_siphash_pow2", BULK_STRINGS, num_bins=2 ** 30, salt=-42),
    hashing("bulk_ints_farmhash", BULK_INTS, dtype="int64", num_bins=2 ** 31 - 1),
    hashing("bulk_ints_siphash", BULK_INTS, dtype="int64", num_bins=2 ** 30, salt=5),
    lookup("bulk_string_lookup_buckets", L.StringLookup, BULK_STRINGS, vocabulary=VOCABULARY, num_oov_indices=1000),
    crossing("bulk_cross", [BULK_STRINGS, BULK_INTS], ["string", "int64"], num_bins=2 ** 31 - 1),
]
# The CPU backend for the cases whose encoding runs TF.js ops (one_hot, multi_hot, count, tf_idf).
CPU_CASES = [c for c in CASES if any(k in c.id for k in ("one_hot", "multi_hot", "count", "tf_idf"))]


@pytest.fixture(scope="module")
def wasm_results(tmp_path_factory):
    return run_cases(CASES + BULK, tmp_path_factory.mktemp("text-wasm"))


@pytest.fixture(scope="module")
def cpu_results(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WEBNETS_TFJS_BACKEND", "cpu")
        return run_cases(CPU_CASES, tmp_path_factory.mktemp("text-cpu"))


def _assert_matches(result, case):
    assert result.error is None, result.error
    assert result.rel_error <= FLOAT32_BOUND, f"max relative error {result.rel_error:.3e}"
    if case.exact:
        for got, want in zip(result.outputs, result.expected):
            want = np.asarray(want)
            if want.dtype.kind in "SO":
                want = np.vectorize(lambda v: v.decode("utf-8") if isinstance(v, bytes) else v, otypes=[object])(want)
            assert got.shape == want.shape, (got.shape, want.shape)
            got, want = got.reshape(-1), want.reshape(-1)
            mismatched = np.flatnonzero(got != want)
            assert mismatched.size == 0, (f"{mismatched.size} of {got.size} values differ, first at {mismatched[0]}: "
                                          f"TF.js {got[mismatched[0]]!r}, Keras {want[mismatched[0]]!r}")


@pytest.mark.parametrize("case", CASES + BULK, ids=lambda c: c.id)
def test_equal_to_keras_on_wasm(wasm_results, case):
    _assert_matches(wasm_results[case.id], case)


@pytest.mark.parametrize("case", CPU_CASES, ids=lambda c: c.id)
def test_equal_to_keras_on_cpu(cpu_results, case):
    _assert_matches(cpu_results[case.id], case)


def test_outputs_are_not_trivial(wasm_results):
    """The cases exercise real lookups: in-vocabulary ids, OOV buckets and spread hash bins, not all zeros."""
    default = wasm_results["tv_default"].outputs[0]
    assert len(np.unique(default)) > 10 and (default == 1).any()  # known tokens and the OOV index
    buckets = wasm_results["sl_oov_buckets"].outputs[0].reshape(-1)
    assert len(set(buckets[buckets < 6].tolist())) >= 3  # several of the 5 OOV buckets (indices 1..5) in use
    assert len(np.unique(wasm_results["bulk_farmhash_prime"].outputs[0])) > 3900
    # indices 0 (mask), 1-2 (OOV), 3.. (tokens), 11 (past the end: OOV)
    assert wasm_results["sl_invert_mask"].outputs[0].reshape(-1).tolist() == [
        "[MASK]", "out_of_vocab", "out_of_vocab", "red", "UPPER", "a b", "out_of_vocab"]


def test_string_options_survive_tfjs_config_rewriting(wasm_results):
    """Tokens with underscores and capitals (which tfjs camelCases on load) still look up: the vocabulary
    travels hex-encoded in model.json."""
    ids = wasm_results["sl_default"].outputs[0].reshape(-1)
    assert ids[1] == VOCABULARY.index("green_blue") + 1 and ids[6] == VOCABULARY.index("snake_case_token") + 1
    config = next(layer["config"] for layer in wasm_results["sl_default"].model_json["modelTopology"]["model_config"]
                  ["config"]["layers"] if layer["class_name"] == "WebnetsStringLookup")
    assert "green_blue" not in json.dumps(config)


# ---- refusals at export: one paragraph naming the option, with a Fix ----
def _standardize(x):
    return x


REFUSALS = [
    ("callable_standardize", lambda: L.TextVectorization(standardize=_standardize), (1,), "standardize=the function"),
    ("callable_split", lambda: L.TextVectorization(split=lambda x: x), (1,), "split=the function"),
    ("ragged", lambda: L.TextVectorization(ragged=True), (1,), "ragged=True"),
    ("sparse", lambda: L.TextVectorization(output_mode="multi_hot", sparse=True), (1,), "sparse=True"),
    ("one_hot_split", lambda: L.TextVectorization(output_mode="one_hot"), (1,), "output_mode='one_hot' with a split"),
    ("rank1_ngrams", lambda: L.TextVectorization(split=None, ngrams=2), (), "ngrams"),
    ("encoding", lambda: L.StringLookup(vocabulary=["a"], encoding="latin-1"), (1,), "encoding='latin-1'"),
    ("whole_batch_count", lambda: L.StringLookup(vocabulary=["a"], output_mode="count"), (), "output_mode='count'"),
    ("int64_vocabulary", lambda: L.IntegerLookup(vocabulary=[1, 2 ** 40]), (1,), "outside int32"),
    ("hashing_sparse", lambda: L.Hashing(num_bins=3, output_mode="multi_hot", sparse=True), (2,), "sparse=True"),
]


@pytest.mark.parametrize("name, make, shape, option", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_unsupported_option_is_refused_naming_it(tmp_path, name, make, shape, option):
    layer = make()
    if isinstance(layer, L.TextVectorization) and not layer._lookup_layer._has_input_vocabulary:
        layer.adapt(CORPUS)
    dtype = "int64" if isinstance(layer, L.IntegerLookup) else "string"
    inputs = keras.Input(shape=shape, dtype=dtype)
    model = keras.Model(inputs, layer(inputs))
    with pytest.raises(UnsupportedLayerError) as refused:
        write_layers_model(model, tmp_path / "out", None)
    message = str(refused.value)
    assert option in message and "Fix:" in message and layer.name in message, message


# ---- the JavaScript API: predict on strings, a clear error on numbers, save and reload ----
@pytest.fixture(scope="module")
def classifier_export(tmp_path_factory):
    """A raw-text classifier exported with `export_keras_model` (its golden vectors hold the input text)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(1,), dtype="string")
    layer = L.TextVectorization(max_tokens=64, output_sequence_length=10)
    layer.adapt(CORPUS)
    model = keras.Model(inputs, _classifier(layer(inputs)))
    out = tmp_path_factory.mktemp("text-export") / "classifier"
    meta = export_keras_model(model, out, log=lambda *_: None)
    return model, out, meta


def test_export_keeps_golden_strings_and_verify_feeds_them(classifier_export):
    model, out, meta = classifier_export
    (golden_input,) = meta["golden"]["inputs"]
    assert golden_input["dtype"] == "string" and isinstance(golden_input["data"][0], str) and golden_input["data"][0]
    assert meta["inputs"][0]["dtype"] == "string"
    report = verify(out)
    assert report.passed and report.max_rel_error <= FLOAT32_BOUND


def test_predict_helper_in_node(classifier_export, tmp_path):
    model, out, _ = classifier_export
    texts = [str(t[0]) for t in TEXTS[:6]]
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"dir": str(out), "texts": texts, "backend": "wasm"}))
    run = subprocess.run(["node", str(REPO_ROOT / "tests" / "text_predict.mjs"), str(request)], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    expected = np.asarray(model(np.array(texts).reshape(-1, 1)))
    for key in ("from_array", "from_tensor", "reloaded"):
        assert max_relative_error([np.asarray(result[key])], [expected]) <= FLOAT32_BOUND, key
    # tfjs' own predict() refuses strings; the helper and the layer say what to feed instead.
    assert "numeric" in result["tfjs_predict_error"]
    helper, layer = result["helper_number_error"], result["layer_number_error"]
    assert "takes strings" in helper and "text_vectorization" in helper and "float32" in helper, helper
    assert "TextVectorization" in layer and "expects a string tensor" in layer and "float32" in layer, layer
    assert "text 0 is 1,048,577 characters long, more than the 1,048,576" in result["long_text_error"]


# ---- the browser: a TextVectorization model on raw strings in headless Chromium (WebGL) ----
def test_text_model_runs_in_chromium(classifier_export, tmp_path):
    import shutil

    from exporter.browser.chromium import WEB_DEMO

    from .browser import chromium, serve

    model, out, _ = classifier_export
    shutil.copytree(out, tmp_path / "model")
    shutil.copy(WEB_DEMO / "vendor" / "tf.min.js", tmp_path / "tf.min.js")
    (tmp_path / "index.html").write_text(
        "<!doctype html><meta charset='utf-8'><script src='tf.min.js'></script>"
        "<script src='model/webnets-layers.js'></script>")
    texts = [str(t[0]) for t in TEXTS]
    with serve(tmp_path) as base, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base}/index.html")
        result = page.evaluate("""async (texts) => {
            await tf.setBackend('webgl');
            const model = await tf.loadLayersModel('model/model.json');
            const y = webnetsLayers.predict(model, texts);
            const out = {backend: tf.getBackend(), values: await y.array()};
            y.dispose();
            return out;
        }""", texts)
    expected = np.asarray(model(np.array(texts).reshape(-1, 1)))
    assert result["backend"] == "webgl"
    assert max_relative_error([np.asarray(result["values"])], [expected]) <= BROWSER_BOUND
