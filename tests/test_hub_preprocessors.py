"""keras-hub's packers and a task saved with its preprocessor, in TF.js: raw strings in.

Packers: each StartEndPacker / MultiSegmentPacker option, fed by a keras-hub tokenizer on texts of
every length (empty, short, past sequence_length), exported and run in Node: ids, segment ids and
padding masks identical to keras-hub's. Task: a BertTextClassifier saved with its
BertTextClassifierPreprocessor goes through `exporter.convert` and, on raw strings, predicts what
keras-hub predicts (keras-hub's preprocessor, then the task). One Node process runs everything.

(keras-hub's `task.predict(texts)` runs the preprocessor in tf.data, which needs tensorflow-text; this
environment has none, so the reference is the preprocessor called eagerly — keras-hub's Python path,
the one its docs show — followed by the task.)
"""

import json

import numpy as np
import pytest

from exporter.errors import ExportError

keras_hub = pytest.importorskip("keras_hub")
import keras  # noqa: E402

from exporter.layers.hub_preprocessors import RaggedTokenizer, with_preprocessor  # noqa: E402
from exporter.parity.runtime import Job, run_jobs  # noqa: E402
from exporter.pipeline import write_layers_model  # noqa: E402

M = keras_hub.models
# A hand-written WordPiece vocabulary: BERT's specials, words, suffixes, punctuation.
VOCAB = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
         + "the a an of and to in is it that whale ship sea captain call me ishmael years ago never mind how long "
           "precisely having little or no money my purse nothing particular interest on shore".split()
         + ["##s", "##ed", "##ing", "##ly", "##er", ".", ",", "!", "?", "'", "-", ";", "cafe", "##e"])
TEXTS = [
    "Call me Ishmael.",
    "",
    "Some years ago - never mind how long precisely - having little or no money in my purse, and nothing "
    "particular to interest me on shore, I thought I would sail about a little and see the watery part of "
    "the world.",
    "the whale!",
    "Café, ship; sea? captains sailed",
    "   ",
    "a " * 40,
    "unknownword zzz",
]
PAIRS = TEXTS[4:] + TEXTS[:4]  # second segments: long with long (2, 6), long with empty, short with short


def _tokenizer():
    return M.BertTokenizer(vocabulary=VOCAB, lowercase=True)


def _packer_model(packer, segments):
    """strings (one input per segment) -> RaggedTokenizer -> packer, its outputs the model's."""
    tokenizer = _tokenizer()
    texts = [keras.Input(shape=(), dtype="string", name=f"text_{i}") for i in range(segments)]
    rows = [RaggedTokenizer(tokenizer, packer.sequence_length, name=f"ids_{i}")(t) for i, t in enumerate(texts)]
    if isinstance(packer, keras_hub.layers.MultiSegmentPacker):
        # keras-hub's MultiSegmentPacker is symbolic as one tensor; it gives (token_ids, segment_ids).
        packer.compute_output_spec = lambda *a, **k: tuple(
            keras.KerasTensor((None, packer.sequence_length), dtype="int32") for _ in range(2))
        outputs = packer(tuple(rows))
    else:
        outputs = packer(rows[0])
    return keras.Model(texts if segments > 1 else texts[0], outputs)


PACKERS = {
    "start_end": (lambda: keras_hub.layers.StartEndPacker(sequence_length=10, start_value=2, end_value=3), 1),
    "start_end_mask_pad": (lambda: keras_hub.layers.StartEndPacker(
        sequence_length=12, start_value=2, end_value=3, pad_value=4, return_padding_mask=True), 1),
    "start_end_left": (lambda: keras_hub.layers.StartEndPacker(
        sequence_length=9, start_value=[2, 4], padding_side="left", return_padding_mask=True), 1),
    "start_end_none": (lambda: keras_hub.layers.StartEndPacker(sequence_length=6), 1),
    "start_end_only_end": (lambda: keras_hub.layers.StartEndPacker(sequence_length=7, end_value=[3, 3]), 1),
    "multi_one_segment": (lambda: keras_hub.layers.MultiSegmentPacker(sequence_length=10, start_value=2,
                                                                       end_value=3), 1),
    "multi_round_robin": (lambda: keras_hub.layers.MultiSegmentPacker(sequence_length=12, start_value=2,
                                                                       end_value=3), 2),
    "multi_waterfall": (lambda: keras_hub.layers.MultiSegmentPacker(sequence_length=12, start_value=2,
                                                                     end_value=3, truncate="waterfall"), 2),
    "multi_three_sep_left_pad": (lambda: keras_hub.layers.MultiSegmentPacker(
        sequence_length=17, start_value=[2, 4], end_value=3, sep_value=[3, 3], pad_value=1, padding_side="left"), 3),
    "multi_waterfall_three": (lambda: keras_hub.layers.MultiSegmentPacker(
        sequence_length=14, start_value=2, end_value=3, truncate="waterfall"), 3),
}


def _segment_texts(segments):
    rotations = [TEXTS, PAIRS, TEXTS[5:] + TEXTS[:5]]
    return [np.array(rotations[i], dtype=object) for i in range(segments)]


def _classifier():
    keras.utils.set_random_seed(1)
    preprocessor = M.BertTextClassifierPreprocessor(_tokenizer(), sequence_length=16)
    backbone = M.BertBackbone(vocabulary_size=len(VOCAB), num_layers=2, num_heads=2, hidden_dim=8,
                              intermediate_dim=16, max_sequence_length=16, dropout=0.0)
    task = M.BertTextClassifier(backbone=backbone, num_classes=3, preprocessor=preprocessor, dropout=0.0)
    rng = np.random.default_rng(0)
    for variable in task.weights:  # weights of a trained size, so outputs depend on every id and position
        variable.assign(rng.normal(0, 0.5, variable.shape).astype("float32"))
    return task


def _keras_hub_predict(task, *segments):
    """keras-hub: the preprocessor (Python path), then the task."""
    # y=None: a bare (first, second) tuple would be taken for (x, y)
    x = task.preprocessor(tuple(list(s) for s in segments) if len(segments) > 1 else list(segments[0]), y=None)
    return np.asarray(task(x, training=False))


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """Every packer model and the converted task, run in one Node process."""
    from exporter.pipeline import convert

    root = tmp_path_factory.mktemp("hub-preprocessors")
    jobs, want = [], {}
    for name, (make, segments) in PACKERS.items():
        model = _packer_model(make(), segments)
        (root / name).mkdir()
        written = write_layers_model(model, root / name, log=lambda *a: None)
        inputs = _segment_texts(segments)
        want[name] = [np.asarray(o) for o in keras.tree.flatten(model(inputs if segments > 1 else inputs[0]))]
        jobs.append(Job(name, root / name, inputs, runtime=[str(root / name / r["file"]) for r in written.requires]))
    task = _classifier()
    task.save(root / "bert.keras")
    meta = convert(root / "bert.keras", root / "bert", imports=["keras_hub"], log=lambda *a: None)
    texts = _segment_texts(1)
    want["bert"] = [_keras_hub_predict(task, *texts)]
    jobs.append(Job("bert", root / "bert", texts))
    # Sentence pairs: the same task, two text inputs (preprocessor=2).
    pairs = with_preprocessor(keras.saving.load_model(root / "bert.keras"), 2)
    (root / "bert_pairs").mkdir()
    write_layers_model(pairs, root / "bert_pairs", log=lambda *a: None)
    texts = _segment_texts(2)
    want["bert_pairs"] = [_keras_hub_predict(task, *texts)]
    jobs.append(Job("bert_pairs", root / "bert_pairs", texts,
                    runtime=[str(root / "bert_pairs" / "webnets-layers.js"),
                             str(root / "bert_pairs" / "webnets-tokenizers.js")]))
    run_jobs(jobs)
    got = {job.id: job for job in jobs}
    return {"got": got, "want": want, "meta": meta, "root": root}


@pytest.mark.parametrize("name", list(PACKERS))
def test_packer_matches_keras_hub_exactly(node, name):
    job = node["got"][name]
    assert job.error is None, job.error
    want = node["want"][name]
    assert len(job.outputs) == len(want)
    for got, expected in zip(job.outputs, want):
        assert np.asarray(got).shape == expected.shape
        np.testing.assert_array_equal(np.asarray(got).astype("int64"), expected.astype("int64"))
    assert want[0].shape[0] == len(TEXTS)


def test_packers_truncate_and_pad_somewhere():
    """The texts really exercise truncation (a row full to sequence_length) and padding (a short row)."""
    tokenizer = _tokenizer()
    lengths = [len(tokenizer(t)) for t in TEXTS]
    assert 0 in lengths and max(lengths) > 40 and min(l for l in lengths if l) < 5


def test_converted_task_predicts_what_keras_hub_predicts(node):
    job, want = node["got"]["bert"], node["want"]["bert"][0]
    assert job.error is None, job.error
    got = np.asarray(job.outputs[0])
    assert got.shape == want.shape == (len(TEXTS), 3)
    assert np.abs(got - want).max() <= 1e-4 * max(1.0, np.abs(want).max()), (got, want)
    assert np.ptp(want, axis=0).max() > 0.1  # the texts give really different predictions
    meta = node["meta"]
    assert meta["inputs"] == [{"name": "text", "shape": [None], "dtype": "string"}]
    assert meta["parity"]["passed"] and [r["file"] for r in meta["requires"]] == ["webnets-layers.js",
                                                                                   "webnets-tokenizers.js"]
    layers = json.loads((node["root"] / "bert" / "model.json").read_text())["modelTopology"]["model_config"]
    classes = [layer["class_name"] for layer in layers["config"]["layers"]]
    assert classes[:3] == ["InputLayer", "WebnetsTokenizer", "WebnetsMultiSegmentPacker"]


def test_sentence_pairs(node):
    job, want = node["got"]["bert_pairs"], node["want"]["bert_pairs"][0]
    assert job.error is None, job.error
    got = np.asarray(job.outputs[0])
    assert got.shape == (len(TEXTS), 3)
    assert np.abs(got - want).max() <= 1e-4 * max(1.0, np.abs(want).max()), (got, want)


def test_token_id_model_stays_available(node):
    task = keras.saving.load_model(node["root"] / "bert.keras")
    assert with_preprocessor(task, False) is task
    model = with_preprocessor(task)
    assert [t.dtype for t in model.inputs] == ["string"]


class _ShoutingPreprocessor(M.BertTextClassifierPreprocessor):
    def call(self, x, y=None, sample_weight=None):
        return super().call(x.upper() if isinstance(x, str) else x, y, sample_weight)


def test_refuses_what_it_cannot_build():
    backbone = M.BertBackbone(vocabulary_size=len(VOCAB), num_layers=1, num_heads=2, hidden_dim=4,
                              intermediate_dim=8, max_sequence_length=8)
    task = M.BertTextClassifier(backbone=backbone, num_classes=2,
                                preprocessor=_ShoutingPreprocessor(_tokenizer(), sequence_length=8))
    assert with_preprocessor(task) is task  # default: a preprocessor webnets does not build keeps token ids
    with pytest.raises(ExportError) as error:
        with_preprocessor(task, True)
    message = str(error.value)
    assert "_ShoutingPreprocessor" in message and "overrides call" in message
    assert "Fix:" in message and "preprocessor=False" in message and "\n" not in message
    with pytest.raises(ExportError, match="number of text segments"):
        with_preprocessor(task, 0)
    # A preprocessor webnets builds, with a tokenizer it cannot run: refused by default, naming the option.
    task.preprocessor = M.BertTextClassifierPreprocessor(
        M.BertTokenizer(vocabulary=VOCAB, _allow_python_workflow=False), sequence_length=8)
    with pytest.raises(ExportError) as error:
        with_preprocessor(task)
    message = str(error.value)
    assert "BertTokenizer does not translate" in message and "_allow_python_workflow=False" in message
    assert "preprocessor=False" in message and "\n" not in message


# ---- A causal LM with its preprocessor: generate_preprocess (start value + text), then the logits ----

GPT2_VOCAB = {"<|endoftext|>": 0, "a": 1, "b": 2, "Ġ": 3, "ab": 4, "Ġa": 5, "Ġb": 6, "Ġab": 7}
GPT2_MERGES = ["a b", "Ġ a", "Ġ b", "Ġa b"]
GPT2_TEXTS = ["ab a b", "", "a b " * 10, "ba ab", " ", "b"]


def test_causal_lm_takes_raw_strings(tmp_path):
    from exporter.pipeline import convert

    keras.utils.set_random_seed(2)
    tokenizer = M.GPT2Tokenizer(vocabulary=GPT2_VOCAB, merges=GPT2_MERGES)
    backbone = M.GPT2Backbone(vocabulary_size=len(GPT2_VOCAB), num_layers=1, num_heads=2, hidden_dim=8,
                              intermediate_dim=16, max_sequence_length=8)
    task = M.GPT2CausalLM(backbone=backbone, preprocessor=M.GPT2CausalLMPreprocessor(tokenizer, sequence_length=8))
    rng = np.random.default_rng(0)
    for variable in task.weights:
        variable.assign(rng.normal(0, 0.5, variable.shape).astype("float32"))
    task.save(tmp_path / "gpt2.keras")
    meta = convert(tmp_path / "gpt2.keras", tmp_path / "gpt2", imports=["keras_hub"], log=lambda *a: None)
    assert meta["inputs"] == [{"name": "text", "shape": [None], "dtype": "string"}] and meta["parity"]["passed"]
    texts = np.array(GPT2_TEXTS, dtype=object)
    want = np.asarray(task(task.preprocessor.generate_preprocess(list(GPT2_TEXTS)), training=False))
    job = Job("gpt2", tmp_path / "gpt2", [texts])
    run_jobs([job])
    assert job.error is None, job.error
    got = np.asarray(job.outputs[0])
    assert got.shape == want.shape == (len(GPT2_TEXTS), 8, len(GPT2_VOCAB))
    assert np.abs(got - want).max() <= 1e-4 * max(1.0, np.abs(want).max())
