"""Parity and trainability of webnets' attention classes (exporter/runtime/webnets-layers.js):
Keras 3 MultiHeadAttention, Attention and AdditiveAttention, which tfjs-layers 4.22 lacks.

Every case is exported and run in real TF.js, on WASM and on the CPU backend (one Node process
per backend), and compared with Keras. Inputs are the usual sample inputs, except that token ids
are really padded (trailing zeros, an interior zero, a mostly padded row) and attention_mask
inputs (named attn_mask*) are 0/1 with zeros, so every mask path masks something.
"""

import json
import subprocess
import time

import keras
import numpy as np
import pytest

from exporter.errors import UnsupportedLayerError
from exporter.layers import translate_model
from exporter.parity.compare import sample_inputs
from exporter.parity.runtime import REPO_ROOT, Job, run_jobs
from exporter.parity.tolerances import FLOAT32_BOUND
from exporter.pipeline import write_layers_model
from exporter.runtime import webnets_classes

from . import parity_helper
from .fit_helper import fit_step
from .parity_helper import Case, parity_on_backends

L = keras.layers
VOCAB = 7  # Embedding input_dim in every masked case (ids 1..VOCAB-1, 0 = padding)


def padded_sample_inputs(model, batch=3, seed=0):
    """sample_inputs, with token ids padded and attention masks 0/1 (see the module docstring)."""
    arrays = sample_inputs(model, batch=batch, seed=seed)
    rng = np.random.default_rng(seed + 1)
    for tensor, array in zip(model.inputs, arrays):
        if "int" in str(tensor.dtype):
            array[...] = array % (VOCAB - 1) + 1
            steps = array.shape[1]
            array[1, steps - 3:] = 0  # trailing padding
            array[1, 1] = 0  # an interior zero
            array[2, 1:] = 0  # only the first token is real
        elif tensor.name.startswith("attn_mask"):
            array[...] = (rng.random(array.shape) > 0.35).astype(np.float32)
            array[0, 0] = 0  # one query row attends to nothing
    return arrays


def functional(inputs, outputs):
    return keras.Model(inputs, outputs)


def seq(shape=(6, 8), name=None):
    return keras.Input(shape, name=name)


def ids(steps=6, name=None):
    return keras.Input((steps,), dtype="int32", name=name)


def embedded(x, dim=8):
    return L.Embedding(VOCAB, dim, mask_zero=True)(x)


def mha_self(call=None, **options):
    def build():
        x = seq()
        return functional(x, L.MultiHeadAttention(**{"num_heads": 2, "key_dim": 4, **options})(x, x, **(call or {})))
    return build


def mha_cross(call=None, with_key=True, **options):
    call = call or {}

    def build():
        q, v = seq((5, 8)), seq((7, 6))
        inputs = [q, v]
        kwargs = dict(call)
        if with_key:
            k = seq((7, 3))
            inputs.append(k)
            kwargs["key"] = k
        layer = L.MultiHeadAttention(**{"num_heads": 3, "key_dim": 4, **options})
        return functional(inputs, layer(q, v, **kwargs))
    return build


def mha_attention_mask(causal=False, heads_mask=False):
    def build():
        q, v = seq((5, 8)), seq((7, 6))
        mask = keras.Input((3, 5, 7) if heads_mask else (5, 7), name="attn_mask")
        layer = L.MultiHeadAttention(3, 4)
        return functional([q, v, mask], layer(q, v, attention_mask=mask, use_causal_mask=causal))
    return build


def mha_embedding_self(causal=False, scores=False):
    def build():
        t = ids()
        x = embedded(t)
        out = L.MultiHeadAttention(2, 4)(x, x, use_causal_mask=causal, return_attention_scores=scores)
        return functional(t, list(out) if scores else out)
    return build


def mha_embedding_cross():
    """Masked query and masked value from different Embeddings, an unmasked key and an attention_mask."""
    def build():
        tq, tv = ids(5, "q_ids"), ids(7, "v_ids")
        k = seq((7, 3))
        mask = keras.Input((5, 7), name="attn_mask")
        q, v = embedded(tq), embedded(tv, 6)
        out = L.MultiHeadAttention(2, 4, value_dim=3)(q, v, key=k, attention_mask=mask)
        return functional([tq, tv, k, mask], out)
    return build


def mha_keywords():
    def build():
        q, v = seq((5, 8)), seq((7, 6))
        return functional([q, v], L.MultiHeadAttention(2, 3)(query=q, value=v))
    return build


def mha_scores_cross():
    def build():
        q, v = seq((5, 8)), seq((7, 6))
        out, scores = L.MultiHeadAttention(2, 3)(q, v, return_attention_scores=True)
        return functional([q, v], [out, scores])
    return build


def mha_2d():
    def build():
        x = keras.Input((3, 4, 5))
        out, scores = L.MultiHeadAttention(2, 3)(x, x, return_attention_scores=True)
        return functional(x, [out, scores])
    return build


def transformer_block(mask_zero=False, causal=False, pooled=True):
    """Embedding -> MHA + residual + LayerNorm -> Dense(gelu) FFN + residual + LayerNorm -> pooling -> Dense.
    `pooled=False`: the per-token Dense head instead of GlobalAveragePooling1D."""
    def build():
        t = ids(8)
        x = L.Embedding(VOCAB, 16, mask_zero=mask_zero)(t)
        a = L.MultiHeadAttention(4, 4, dropout=0.1)(x, x, use_causal_mask=causal)
        x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, a]))
        f = L.Dense(16)(L.Dense(32, activation="gelu")(x))
        x = L.LayerNormalization(epsilon=1e-6)(L.Add()([x, f]))
        if pooled:
            x = L.GlobalAveragePooling1D()(x)
        return functional(t, L.Dense(3, activation="softmax")(x))
    return build


def attention_case(make, key=False, causal=False, scores=False, masked=False):
    def build():
        if masked:
            tq, tv = ids(5), ids(7)
            q, v = embedded(tq, 6), embedded(tv, 6)
            inputs = [tq, tv]
        else:
            q, v = seq((5, 6)), seq((7, 6))
            inputs = [q, v]
        args = [q, v]
        if key:
            k = seq((7, 6))
            inputs.append(k)
            args.append(k)
        out = make()(args, use_causal_mask=causal, return_attention_scores=scores)
        return functional(inputs, list(out) if scores else out)
    return build


def self_attention_on_one_tensor(make):
    """make()([x, x]): the same tensor as query and value reaches TF.js once."""
    def build():
        x = seq()
        return functional(x, make()([x, x]))

    return build


CASES = [
    Case("mha_self", mha_self()),
    Case("mha_cross_key_value_dim", mha_cross(value_dim=5)),
    Case("mha_cross_no_key", mha_cross(with_key=False)),
    Case("mha_output_shape_int", mha_cross(output_shape=10, value_dim=3)),
    Case("mha_output_shape_tuple", mha_cross(output_shape=(3, 2))),
    Case("mha_no_bias", mha_cross(use_bias=False, value_dim=2)),
    Case("mha_gate", mha_cross(use_gate=True, value_dim=3)),
    Case("mha_dropout_is_inference_noop", mha_self(dropout=0.5)),
    Case("mha_causal_self", mha_self(call={"use_causal_mask": True})),
    Case("mha_causal_cross", mha_cross(call={"use_causal_mask": True})),
    Case("mha_sliding_window", mha_cross(call={"use_causal_mask": True}, sliding_window=2)),
    Case("mha_sliding_window_only", mha_self(sliding_window=3)),
    Case("mha_attention_mask", mha_attention_mask()),
    Case("mha_attention_mask_causal", mha_attention_mask(causal=True)),
    Case("mha_attention_mask_per_head", mha_attention_mask(heads_mask=True)),
    Case("mha_embedding_mask_self", mha_embedding_self()),
    Case("mha_embedding_mask_causal", mha_embedding_self(causal=True)),
    Case("mha_embedding_mask_scores", mha_embedding_self(scores=True)),
    Case("mha_embedding_masks_cross", mha_embedding_cross()),
    Case("mha_keyword_call", mha_keywords()),
    Case("mha_return_scores_cross", mha_scores_cross()),
    Case("mha_2d_attention_axes", mha_2d()),
    Case("transformer_block", transformer_block()),
    Case("transformer_block_causal", transformer_block(causal=True)),
    Case("transformer_block_masked", transformer_block(mask_zero=True, pooled=False)),
    Case("transformer_block_masked_pooled", transformer_block(mask_zero=True)),
    Case("attention_dot", attention_case(L.Attention)),
    Case("attention_dot_scale_key", attention_case(lambda: L.Attention(use_scale=True), key=True)),
    Case("attention_concat", attention_case(lambda: L.Attention(score_mode="concat"))),
    Case("attention_concat_scale_causal", attention_case(lambda: L.Attention(use_scale=True, score_mode="concat"),
                                                         causal=True)),
    Case("attention_masked", attention_case(lambda: L.Attention(dropout=0.2), masked=True)),
    Case("attention_masked_causal_scores", attention_case(L.Attention, masked=True, causal=True, scores=True)),
    Case("additive", attention_case(L.AdditiveAttention)),
    Case("additive_no_scale_key", attention_case(lambda: L.AdditiveAttention(use_scale=False), key=True)),
    Case("additive_masked_causal", attention_case(L.AdditiveAttention, masked=True, causal=True)),
    Case("additive_scores", attention_case(L.AdditiveAttention, scores=True)),
    Case("attention_self_one_tensor", self_attention_on_one_tensor(L.Attention)),
    Case("additive_self_one_tensor", self_attention_on_one_tensor(L.AdditiveAttention)),
]
BY_ID = {case.id: case for case in CASES}


wasm_results, cpu_results, test_parity_on_wasm, test_parity_on_cpu = parity_on_backends(
    CASES, "attention", prepare=lambda patch: patch.setattr(parity_helper, "sample_inputs", padded_sample_inputs))


def test_every_case_uses_a_webnets_attention_class(wasm_results):
    for case in CASES:
        classes = webnets_classes(wasm_results[case.id].model_json)
        assert classes & {"WebnetsMultiHeadAttention", "WebnetsAttention", "WebnetsAdditiveAttention"}, case.id


def test_masks_travel_as_explicit_inputs(wasm_results):
    layers = {layer["class_name"]: layer for layer in
              wasm_results["mha_embedding_masks_cross"].model_json["modelTopology"]["model_config"]["config"]["layers"]}
    mha = layers["WebnetsMultiHeadAttention"]
    config = mha["config"]
    # query, value, key, attention_mask, then the query's and the value's masks
    assert [config[f"{k}_index"] for k in ("value", "key", "attention_mask", "query_mask", "value_mask", "key_mask")] \
        == [1, 2, 3, 4, 5, -1]
    assert len(mha["inbound_nodes"][0]) == 6
    assert "WebnetsMask" in layers
    # unmasked models get no mask carriers
    plain = wasm_results["mha_self"].model_json["modelTopology"]["model_config"]["config"]["layers"]
    assert "WebnetsMask" not in {layer["class_name"] for layer in plain}
    # self-attention passes its one tensor (and its one mask) once
    self_layers = wasm_results["mha_embedding_mask_self"].model_json["modelTopology"]["model_config"]["config"]["layers"]
    (mha,) = [layer for layer in self_layers if layer["class_name"] == "WebnetsMultiHeadAttention"]
    assert len(mha["inbound_nodes"][0]) == 2
    assert (mha["config"]["value_index"], mha["config"]["query_mask_index"], mha["config"]["value_mask_index"]) == (0, 1, 1)


def test_padded_inputs_really_contain_padding_and_masked_attention():
    model = BY_ID["mha_embedding_masks_cross"].build()
    arrays = padded_sample_inputs(model)
    assert (arrays[0] == 0).any() and (arrays[0] != 0).any()
    assert (arrays[3] == 0).any() and (arrays[3] == 1).any()
    # The masks change Keras' result: the case would not pass if TF.js ignored them.
    unmasked = [np.where(a == 0, 1, a) if a.dtype == np.int32 else np.ones_like(a) if i == 3 else a
                for i, a in enumerate(arrays)]
    real, fake = model(arrays), model(unmasked)
    assert not np.allclose(np.asarray(real), np.asarray(fake), atol=1e-3)


ROUND_TRIP = r"""
import {createRequire} from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
const require = createRequire(path.join(process.cwd(), 'package.json'));
const tf = require('@tensorflow/tfjs');
tf.env().set('IS_NODE', true);
await tf.setBackend('cpu');
const dir = process.argv[2];
require(path.join(dir, 'webnets-layers.js')).register(tf);
const handler = {load: async () => {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const all = Buffer.concat(manifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
    return [manifest.flatMap((g) => g.weights), all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
  });
}};
const model = await tf.loadLayersModel(handler, {strict: true});
// toJSON writes snake_case keys, modelFromJSON camelCases them again: the classes must survive that.
const again = await tf.models.modelFromJSON({modelTopology: model.toJSON(null, false)});
again.setWeights(model.getWeights());
const xs = model.inputs.map((input) => tf.ones([2, ...input.shape.slice(1)], input.dtype));
const one = (x) => (x.length === 1 ? x[0] : x);
const a = [model.predict(one(xs))].flat(), b = [again.predict(one(xs))].flat();
const diff = Math.max(...a.map((t, i) => tf.max(tf.abs(tf.sub(t, b[i]))).dataSync()[0]));
const configs = model.layers.filter((l) => l.getClassName().startsWith('Webnets')).map((l) => l.getConfig());
console.log(JSON.stringify({diff, configs}));
"""


@pytest.mark.parametrize("case_id", ["mha_embedding_masks_cross", "mha_gate", "mha_output_shape_tuple",
                                     "attention_concat_scale_causal", "additive_masked_causal"])
def test_configs_round_trip_through_tfjs_serialization(tmp_path, case_id):
    report = round_trip(BY_ID[case_id], tmp_path)
    assert report["diff"] == 0
    assert report["configs"], "no webnets layer in the export"


def round_trip(case, root):
    """Export the case and run ROUND_TRIP on it in Node: its report ({diff, configs})."""
    keras.utils.set_random_seed(0)
    write_layers_model(case.build(), root, optimize=False, log=lambda *_: None)
    script = root / "round_trip.mjs"
    script.write_text(ROUND_TRIP)
    proc = subprocess.run(["node", str(script), str(root)], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _refusal(build):
    with pytest.raises(UnsupportedLayerError) as info:
        translate_model(build())
    return str(info.value)


def test_partial_attention_axes_are_refused_naming_the_option():
    def build():
        x = keras.Input((3, 4, 5))
        return functional(x, L.MultiHeadAttention(2, 3, attention_axes=(2,))(x, x))
    assert "attention_axes" in _refusal(build)


def test_masks_on_several_attention_axes_are_refused():
    def build():
        x = keras.Input((3, 4, 5))
        return functional(x, L.MultiHeadAttention(2, 3)(x, x, use_causal_mask=True))
    assert "use_causal_mask" in _refusal(build)


def test_explicit_attention_mask_list_is_refused():
    def build():
        q, v = seq((5, 6)), seq((7, 6))
        qm, vm = keras.Input((5,), dtype="bool"), keras.Input((7,), dtype="bool")
        return functional([q, v, qm, vm], L.Attention()([q, v], mask=[qm, vm]))
    assert "mask" in _refusal(build)


def test_transformer_block_predict_time_on_wasm(tmp_path):
    """Rough timing (reported, loosely bounded): one predict of the transformer block, 32 x 64 tokens."""
    keras.utils.set_random_seed(0)

    def build():
        t = ids(64)
        x = L.Embedding(1000, 64)(t)
        a = L.MultiHeadAttention(4, 16)(x, x)
        x = L.LayerNormalization()(L.Add()([x, a]))
        f = L.Dense(64)(L.Dense(128, activation="gelu")(x))
        x = L.LayerNormalization()(L.Add()([x, f]))
        return functional(t, L.Dense(3)(L.GlobalAveragePooling1D()(x)))
    model = build()
    (tmp_path / "block").mkdir()
    write_layers_model(model, tmp_path / "block")
    inputs = [np.random.default_rng(0).integers(0, 1000, (32, 64)).astype(np.int32)]
    started = time.perf_counter()
    (job,) = run_jobs([Job("block", tmp_path / "block", inputs)])
    assert job.error is None, job.error
    print(f"transformer block (32 x 64 tokens) on {job.backend}: predict {job.predict_ms:.1f} ms, "
          f"load {job.load_ms:.1f} ms, whole run {time.perf_counter() - started:.1f} s")
    assert job.predict_ms < 5000


# ---- trainability: one full-batch SGD step in TF.js equals the step in Keras ----

def _dense_targets(model, samples, rng):
    outputs = model.outputs
    return [rng.standard_normal((samples, *o.shape[1:])).astype("float32") for o in outputs]


def _freeze_key_bias(model):
    """The key bias cannot change a softmax over keys (it adds q.b to a whole row of scores), so its
    true gradient is 0 and both sides update it by rounding noise: leave it out of the comparison."""
    for layer in model.layers:
        if isinstance(layer, L.MultiHeadAttention):
            layer._key_dense.bias.trainable = False
    return model


def fit_mha():
    x = seq((5, 6))
    return _freeze_key_bias(functional(x, L.MultiHeadAttention(2, 3, value_dim=4)(x, x, use_causal_mask=True)))


def fit_mha_masked():
    """A masked value (Embedding(mask_zero=True)) and an unmasked query: the output carries no mask, so
    Keras' loss is not masked (TF.js never masks a loss) and the step compares the attention itself."""
    q, t = seq((5, 8)), ids(6)
    v = L.Embedding(VOCAB, 8, mask_zero=True)(t)
    return _freeze_key_bias(functional([q, t], L.MultiHeadAttention(2, 4, use_gate=True)(q, v)))


def fit_mha_l2():
    """kernel_regularizer adds Keras' L2 loss on every projection kernel; TF.js adds the same."""
    x = seq((5, 6))
    return functional(x, L.MultiHeadAttention(2, 3, use_bias=False, kernel_regularizer="l2")(x, x))


def fit_mha_cross_attention_mask():
    q, v, k = seq((5, 8)), seq((7, 6)), seq((7, 3))
    mask = keras.Input((5, 7), name="attn_mask")
    layer = L.MultiHeadAttention(2, 3, value_dim=2, output_shape=(2, 2))
    return _freeze_key_bias(functional([q, v, k, mask], layer(q, v, key=k, attention_mask=mask)))


def fit_attention(make):
    def build():
        q_in, v_in = seq((5, 6)), seq((7, 6))
        q, v = L.Dense(4)(q_in), L.Dense(4)(v_in)
        return functional([q_in, v_in], make()([q, v]))
    return build


FIT_CASES = {
    "mha_causal": fit_mha,
    "mha_embedding_mask_gate": fit_mha_masked,
    "mha_cross_key_attention_mask_output_shape": fit_mha_cross_attention_mask,
    "mha_l2_regularizer_no_bias": fit_mha_l2,
    "attention_dot_scale": fit_attention(lambda: L.Attention(use_scale=True)),
    "attention_concat_scale": fit_attention(lambda: L.Attention(use_scale=True, score_mode="concat")),
    "additive_attention": fit_attention(L.AdditiveAttention),
}


@pytest.mark.parametrize("case_id", list(FIT_CASES))
def test_one_sgd_step_in_tfjs_matches_keras(tmp_path, case_id):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    model = FIT_CASES[case_id]()
    inputs = padded_sample_inputs(model, batch=3, seed=1)
    step = fit_step(model, inputs, _dense_targets(model, 3, rng), tmp_path)
    print(f"{case_id}: update error {step.error:.2e} (worst {step.worst}), smallest change {step.change:.2e}, "
          f"{step.weights} weights")
    assert step.change > 0, "the step did not move every weight"
    assert step.error <= FLOAT32_BOUND, f"{step.worst}: update differs by {step.error:.2e}"
