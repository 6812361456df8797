"""The language-model building blocks now in Keras itself: RMSNormalization, GroupedQueryAttention,
ReversibleEmbedding and SpectralNormalization, exported to TF.js with parity on WASM and CPU (one
Node process per backend), one SGD step in TF.js moving the weights as Keras does, and the refusals.

Inputs are the attention tests' padded sample inputs: token ids really padded (trailing zeros, an
interior zero, a mostly padded row) and attention_mask inputs (named attn_mask*) 0/1 with a query row
that attends to nothing, so every mask path masks something. Weights initialized to ones (RMSNormalization's
scale) are randomized, so that a scale applied along the wrong axis shows.
"""


import keras
import numpy as np
import pytest

from exporter.errors import UnsupportedLayerError
from exporter.layers import translate_model
from exporter.parity.tolerances import FLOAT32_BOUND
from exporter.runtime import webnets_classes

from . import parity_helper
from .fit_helper import fit_step
from .parity_helper import Case, parity_on_backends
from .test_webnets_attention import functional, ids, padded_sample_inputs, round_trip, seq

L = keras.layers
VOCAB = 12  # ReversibleEmbedding input_dim (>= the ids the sample inputs draw)


def randomized_ones(model, seed=0):
    """Every weight Keras initialized to ones (a scale) gets other values, so its axis matters."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        value = np.asarray(v.numpy())
        if value.size > 1 and np.all(value == 1):
            v.assign(rng.uniform(0.5, 1.5, value.shape).astype("float32"))
    return model


def one_layer(case_id, shape, make):
    """keras.Input(shape) -> make()(x), weights randomized."""
    def build():
        x = keras.Input(shape)
        return randomized_ones(functional(x, make()(x)))
    return Case(case_id, build)


# ---- RMSNormalization -------------------------------------------------------------------------

RMS_CASES = [
    one_layer("rms_norm_last_axis", (5, 6), lambda: L.RMSNormalization()),
    one_layer("rms_norm_epsilon", (5, 6), lambda: L.RMSNormalization(epsilon=0.5)),
    one_layer("rms_norm_epsilon_none", (5, 6), lambda: L.RMSNormalization(epsilon=None)),
    one_layer("rms_norm_vectors", (7,), lambda: L.RMSNormalization(epsilon=1e-3)),
    one_layer("rms_norm_two_axes", (5, 6), lambda: L.RMSNormalization(axis=[1, 2])),
    one_layer("rms_norm_two_axes_negative", (3, 4, 5), lambda: L.RMSNormalization(axis=[-2, -1], epsilon=1e-2)),
    # Keras multiplies scale (sizes of the normalized axis) with numpy broadcasting, i.e. along the
    # last axis here: reproduced as it is.
    one_layer("rms_norm_middle_axis_scale_broadcasts_last", (4, 3, 4), lambda: L.RMSNormalization(axis=1)),
    one_layer("rms_norm_inner_axes_scale_broadcasts_last", (4, 4, 4), lambda: L.RMSNormalization(axis=[1, 2])),
    one_layer("rms_norm_image_channels", (4, 4, 3), lambda: L.RMSNormalization(axis=-1, epsilon=1e-5)),
]


# ---- GroupedQueryAttention --------------------------------------------------------------------

def gqa(**options):
    return L.GroupQueryAttention(**{"head_dim": 4, "num_query_heads": 4, "num_key_value_heads": 2, **options})


def gqa_self(call=None, **options):
    def build():
        x = seq()
        return functional(x, gqa(**options)(x, x, **(call or {})))
    return build


def gqa_cross(call=None, with_key=True, **options):
    """Query (5 steps), value (7 steps, the query's width, as Keras requires) and a narrower key."""
    def build():
        q, v = seq((5, 8)), seq((7, 8))
        inputs, kwargs = [q, v], dict(call or {})
        if with_key:
            k = seq((7, 3))
            inputs.append(k)
            kwargs["key"] = k
        out = gqa(**options)(q, v, **kwargs)
        return functional(inputs, list(out) if isinstance(out, tuple) else out)
    return build


def gqa_attention_mask(causal=False, scores=False, heads_mask=False, **options):
    def build():
        q, v = seq((5, 8)), seq((7, 8))
        mask = keras.Input((4, 5, 7) if heads_mask else (5, 7), name="attn_mask")
        out = gqa(**options)(q, v, attention_mask=mask, use_causal_mask=causal, return_attention_scores=scores)
        return functional([q, v, mask], list(out) if scores else out)
    return build


def gqa_embedded(causal=False, scores=False):
    """Masked query and value (Embedding(mask_zero=True)): Keras' query, value and key masks."""
    def build():
        t = ids()
        x = L.Embedding(7, 8, mask_zero=True)(t)
        out = gqa()(x, x, use_causal_mask=causal, return_attention_scores=scores)
        return functional(t, list(out) if scores else out)
    return build


def gqa_embedded_cross():
    def build():
        tq, tv = ids(5, "q_ids"), ids(7, "v_ids")
        q, v = L.Embedding(7, 8, mask_zero=True)(tq), L.Embedding(7, 8, mask_zero=True)(tv)
        return functional([tq, tv], gqa(num_query_heads=6, num_key_value_heads=3)(q, v, key=v))
    return build


def gqa_keywords():
    def build():
        q, v = seq((5, 8)), seq((7, 8))
        return functional([q, v], gqa()(query=q, value=v))
    return build


GQA_CASES = [
    Case("gqa_self", gqa_self()),
    Case("gqa_multi_query_one_kv_head", gqa_self(num_query_heads=3, num_key_value_heads=1)),
    Case("gqa_as_many_kv_heads_as_query_heads", gqa_self(num_query_heads=2, num_key_value_heads=2, head_dim=3)),
    Case("gqa_eight_heads_two_groups", gqa_self(num_query_heads=8, num_key_value_heads=2, head_dim=2)),
    Case("gqa_cross_key", gqa_cross()),
    Case("gqa_cross_no_key", gqa_cross(with_key=False)),
    Case("gqa_keyword_call", gqa_keywords()),
    Case("gqa_no_bias", gqa_cross(use_bias=False)),
    Case("gqa_gate", gqa_cross(use_gate=True)),
    Case("gqa_dropout_is_inference_noop", gqa_self(dropout=0.5, seed=3)),
    Case("gqa_flash_attention_false", gqa_self(flash_attention=False)),
    Case("gqa_causal_self", gqa_self(call={"use_causal_mask": True})),
    Case("gqa_causal_cross", gqa_cross(call={"use_causal_mask": True})),
    Case("gqa_causal_dropout", gqa_self(call={"use_causal_mask": True}, dropout=0.2)),
    Case("gqa_sliding_window", gqa_self(call={"use_causal_mask": True}, sliding_window=2)),
    Case("gqa_attention_mask", gqa_attention_mask()),
    Case("gqa_attention_mask_causal", gqa_attention_mask(causal=True)),
    Case("gqa_attention_mask_per_head", gqa_attention_mask(heads_mask=True)),
    Case("gqa_attention_mask_scores", gqa_attention_mask(scores=True)),
    Case("gqa_attention_mask_dropout", gqa_attention_mask(dropout=0.1)),
    Case("gqa_return_scores", gqa_cross(call={"return_attention_scores": True}, with_key=False)),
    Case("gqa_return_scores_causal_gate", gqa_cross(call={"return_attention_scores": True, "use_causal_mask": True},
                                                    use_gate=True)),
    Case("gqa_embedding_masks", gqa_embedded()),
    Case("gqa_embedding_masks_causal_scores", gqa_embedded(causal=True, scores=True)),
    Case("gqa_embedding_masks_cross", gqa_embedded_cross()),
]


# ---- ReversibleEmbedding ----------------------------------------------------------------------

def rev(**options):
    return L.ReversibleEmbedding(**{"input_dim": VOCAB, "output_dim": 6, **options})


def re_lookup(**options):
    def build():
        t = ids()
        return functional(t, rev(**options)(t))
    return build


def re_lookup_then_dense(**options):
    """The padding mask (mask_zero) reaches a Dense, which uses none: Keras and TF.js agree."""
    def build():
        t = ids()
        return functional(t, L.Dense(4)(rev(**options)(t)))
    return build


def re_reverse_only(**options):
    def build():
        x = seq((5, 6))
        layer = rev(embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0), **options)
        return functional(x, layer(x, reverse=True))
    return build


def reverse_rank4():
    """Ids of rank 2 and vectors of rank 4 (an image of embeddings, say): any ranks, as long as they differ."""
    def build():
        t, grid = ids(6), seq((3, 4, 6))
        layer = rev(tie_weights=False)
        return functional([t, grid], [layer(t), layer(grid, reverse=True)])
    return build


def language_model(tie_weights=True, mask_zero=False, soft_cap=None, **options):
    """A pre-norm decoder step, as Gemma/Llama build it: ids -> ReversibleEmbedding -> RMSNorm -> causal
    GroupedQueryAttention (+ residual) -> RMSNorm -> the same ReversibleEmbedding, reverse -> logits."""
    def build():
        t = ids(6)
        embedding = rev(tie_weights=tie_weights, mask_zero=mask_zero, logit_soft_cap=soft_cap,
                        embeddings_initializer=keras.initializers.RandomNormal(stddev=0.5), **options)
        x = embedding(t)
        h = L.RMSNormalization()(x)
        x = L.Add()([x, gqa(num_query_heads=2, num_key_value_heads=1, head_dim=3)(h, h, use_causal_mask=True)])
        return randomized_ones(functional(t, embedding(L.RMSNormalization()(x), reverse=True)))
    return build


def hidden_and_logits():
    """Two outputs of one layer's two calls (reverse=False spelled out): the vectors, and their logits."""
    def build():
        t = ids(6)
        embedding = rev(tie_weights=False)
        x = embedding(t, reverse=False)
        return functional(t, [x, embedding(L.Dense(6, activation="tanh")(x), reverse=True)])
    return build


RE_CASES = [
    Case("re_lookup", re_lookup()),
    Case("re_lookup_untied", re_lookup(tie_weights=False)),
    Case("re_lookup_mask_zero_dense", re_lookup_then_dense(mask_zero=True)),
    Case("re_reverse_tied", re_reverse_only()),
    Case("re_reverse_untied", re_reverse_only(tie_weights=False)),
    Case("re_reverse_on_vectors_rank4", reverse_rank4()),
    Case("re_reverse_soft_cap", re_reverse_only(logit_soft_cap=1.5)),
    Case("re_reverse_dtype_float32", re_reverse_only(reverse_dtype="float32", logit_soft_cap=3.0)),
    Case("re_language_model_tied", language_model()),
    Case("re_language_model_untied_soft_cap", language_model(tie_weights=False, soft_cap=2.0)),
    Case("re_language_model_mask_zero", language_model(mask_zero=True, soft_cap=5.0)),
    Case("re_two_outputs_untied", hidden_and_logits()),
]


# ---- SpectralNormalization --------------------------------------------------------------------

def sn_after_training(make, shape):
    """A Keras training step first: the power iteration writes the normalized kernel into the wrapped
    layer, which is what inference (and so TF.js) then computes with."""
    def build():
        x = keras.Input(shape)
        model = functional(x, L.SpectralNormalization(make())(x))
        model.compile(optimizer="sgd", loss="mse")
        rng = np.random.default_rng(0)
        model.train_on_batch(rng.standard_normal((2, *shape)).astype("float32"),
                             rng.standard_normal((2, *model.output.shape[1:])).astype("float32"))
        return model
    return build


def sn_sequential():
    return keras.Sequential([keras.Input((5,)), L.SpectralNormalization(L.Dense(3, activation="relu")),
                             L.Dense(2)])


SN_CASES = [
    one_layer("sn_dense", (5,), lambda: L.SpectralNormalization(L.Dense(4))),
    one_layer("sn_dense_sequence_power_iterations", (4, 5),
              lambda: L.SpectralNormalization(L.Dense(3, use_bias=False), power_iterations=3)),
    one_layer("sn_dense_hard_silu_lowered", (5,), lambda: L.SpectralNormalization(L.Dense(4, activation="hard_silu"))),
    one_layer("sn_conv2d", (6, 6, 3), lambda: L.SpectralNormalization(L.Conv2D(4, 3, activation="relu"))),
    one_layer("sn_conv1d", (7, 3), lambda: L.SpectralNormalization(L.Conv1D(2, 3, padding="same"))),
    Case("sn_dense_after_a_training_step", sn_after_training(lambda: L.Dense(4), (5,))),
    Case("sn_conv2d_after_a_training_step", sn_after_training(lambda: L.Conv2D(3, 3), (5, 5, 2))),
    Case("sn_in_sequential", sn_sequential),
]

CASES = RMS_CASES + GQA_CASES + RE_CASES + SN_CASES
BY_ID = {case.id: case for case in CASES}


wasm_results, cpu_results, test_parity_on_wasm, test_parity_on_cpu = parity_on_backends(
    CASES, "llm-blocks", prepare=lambda patch: patch.setattr(parity_helper, "sample_inputs", padded_sample_inputs))


def _layers(result):
    return result.model_json["modelTopology"]["model_config"]["config"]["layers"]


def test_each_block_becomes_its_webnets_class(wasm_results):
    expected = {"rms_norm": "WebnetsRMSNormalization", "gqa": "WebnetsGroupedQueryAttention",
                "re_": "WebnetsReversibleEmbedding"}
    for case in CASES:
        for prefix, class_name in expected.items():
            if case.id.startswith(prefix):
                assert class_name in webnets_classes(wasm_results[case.id].model_json), case.id


def test_a_language_model_keeps_one_embedding_weight_for_both_calls(wasm_results):
    for case_id, weights in (("re_language_model_tied", ["embeddings"]),
                             ("re_language_model_untied_soft_cap", ["embeddings", "reverse_embeddings"])):
        result = wasm_results[case_id]
        (layer,) = [l for l in _layers(result) if l["class_name"] == "WebnetsReversibleEmbedding"]
        assert len(layer["inbound_nodes"]) == 2 and layer["config"]["reverse_ranks"] == [3]
        names = [w["name"] for group in result.model_json["weightsManifest"] for w in group["weights"]]
        assert sorted(n.split("/", 1)[1] for n in names if n.startswith(layer["name"] + "/")) == weights


def test_spectral_normalization_exports_the_wrapped_layer_without_vector_u(wasm_results):
    result = wasm_results["sn_dense_hard_silu_lowered"]
    names = [w["name"] for group in result.model_json["weightsManifest"] for w in group["weights"]]
    assert not [n for n in names if "vector_u" in n]
    layers = _layers(result)
    assert layers[-1]["name"].startswith("spectral_normalization")  # the graph's name for the wrapper
    assert {l["class_name"] for l in layers} >= {"Dense", "Multiply"}


def test_flash_attention_translates_to_the_same_layer():
    # The TensorFlow backend cannot run flash attention (so no parity case); it is a kernel choice for
    # the same softmax attention, and is not in the config: the export is the same.
    def exported(flash):
        keras.utils.set_random_seed(0)
        x = seq()
        model = functional(x, gqa(flash_attention=flash, name="gqa")(x, x, use_causal_mask=True))
        return translate_model(model)[0]["config"]["layers"][-1]["config"]
    assert exported(True) == exported(False)


@pytest.mark.parametrize("case_id", ["gqa_embedding_masks_cross", "gqa_return_scores_causal_gate",
                                     "re_language_model_untied_soft_cap", "re_two_outputs_untied",
                                     "rms_norm_two_axes"])
def test_configs_round_trip_through_tfjs_serialization(tmp_path, case_id):
    report = round_trip(BY_ID[case_id], tmp_path)
    assert report["diff"] == 0 and report["configs"]


def test_padded_inputs_make_the_attention_masks_matter():
    keras.utils.set_random_seed(0)
    model = BY_ID["gqa_attention_mask"].build()
    q, v, mask = padded_sample_inputs(model)
    assert (mask == 0).any() and (mask == 1).any()
    real, unmasked = model([q, v, mask]), model([q, v, np.ones_like(mask)])
    assert not np.allclose(np.asarray(real), np.asarray(unmasked), atol=1e-3)


def test_keras_spectral_normalization_at_inference_is_the_wrapped_layer():
    # The translation's premise, on Keras itself: training=False runs the inner layer unchanged.
    keras.utils.set_random_seed(0)
    wrapper = L.SpectralNormalization(L.Dense(3))
    x = np.random.default_rng(0).standard_normal((2, 5)).astype("float32")
    np.testing.assert_array_equal(np.asarray(wrapper(x, training=False)), np.asarray(wrapper.layer(x)))
    assert [v.name for v in wrapper.non_trainable_weights] == ["vector_u"]


# ---- trainability: one full-batch SGD step in TF.js equals the step in Keras ----------------

def _freeze_key_bias(model):
    """A key bias adds q.b to a whole row of scores, which a softmax over keys ignores: its true gradient
    is 0 and both sides move it by rounding noise only, so it is left out of the comparison."""
    for layer in model.layers:
        if isinstance(layer, L.GroupQueryAttention):
            layer._key_dense.bias.trainable = False
    return model


def fit_rms_norm(axis=-1):
    def build():
        x = seq((5, 6))
        h = L.RMSNormalization(axis=axis, epsilon=1e-3)(L.Dense(6)(x))
        return randomized_ones(functional(x, L.Dense(3)(h)))
    return build


def fit_gqa_causal():
    x = seq((5, 6))
    return _freeze_key_bias(functional(x, gqa(num_query_heads=4, num_key_value_heads=2, head_dim=3)(
        x, x, use_causal_mask=True)))


def fit_gqa_cross_mask_gate():
    q, v, k = seq((5, 6)), seq((7, 6)), seq((7, 3))
    mask = keras.Input((5, 7), name="attn_mask")
    layer = gqa(num_query_heads=6, num_key_value_heads=2, head_dim=2, use_gate=True)
    return _freeze_key_bias(functional([q, v, k, mask], layer(q, v, key=k, attention_mask=mask)))


def fit_gqa_scores_no_bias():
    x = seq((5, 6))
    out, scores = gqa(num_query_heads=2, num_key_value_heads=1, head_dim=3, use_bias=False)(
        x, x, return_attention_scores=True)
    # One output: tfjs' fit adds the per-sample losses of several outputs before averaging them, which
    # fails for outputs of different ranks.
    return functional(x, L.Concatenate()([L.Reshape((30,))(out), L.Reshape((50,))(scores)]))


def fit_language_model(tie_weights, **options):
    def build():
        return _freeze_key_bias(language_model(tie_weights=tie_weights, soft_cap=3.0, **options)())
    return build


FIT_CASES = {
    "rms_norm": fit_rms_norm(),
    "rms_norm_two_axes": fit_rms_norm(axis=[1, 2]),
    "gqa_causal": fit_gqa_causal,
    "gqa_cross_attention_mask_gate": fit_gqa_cross_mask_gate,
    "gqa_scores_no_bias": fit_gqa_scores_no_bias,
    # One ReversibleEmbedding called both ways: the tied embeddings get the gradients of the lookup and
    # of the logits, as in Keras (untied: each kernel its own).
    "re_language_model_tied": fit_language_model(True),
    "re_language_model_untied": fit_language_model(False),
    "re_language_model_tied_l2": fit_language_model(True, embeddings_regularizer="l2"),
}


def _targets(model, samples, rng):
    return [rng.standard_normal((samples, *o.shape[1:])).astype("float32") for o in model.outputs]


@pytest.mark.parametrize("case_id", list(FIT_CASES))
def test_one_sgd_step_in_tfjs_matches_keras(tmp_path, case_id):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    model = FIT_CASES[case_id]()
    inputs = padded_sample_inputs(model, batch=3, seed=1)
    step = fit_step(model, inputs, _targets(model, 3, rng), tmp_path)
    print(f"{case_id}: update error {step.error:.2e} (worst {step.worst}), smallest change {step.change:.2e}, "
          f"{step.weights} weights")
    assert step.change > 1e-6, "the step did not move every weight"
    assert step.error <= FLOAT32_BOUND, f"{step.worst}: update differs by {step.error:.2e}"


# ---- refusals -------------------------------------------------------------------------------

def _refused(build, *words):
    with pytest.raises(UnsupportedLayerError) as info:
        translate_model(build())
    message = str(info.value)
    for word in (*words, "Fix:"):
        assert word in message, message


def test_reverse_dtype_narrower_than_float32_is_refused():
    _refused(re_reverse_only(reverse_dtype="float16"), "reverse_dtype")


def test_a_padding_mask_that_attention_would_use_is_refused():
    def build():
        t = ids()
        x = rev(mask_zero=True)(t)
        h = L.LayerNormalization()(x)  # supports masking: passes Keras' run-time mask on to the attention
        return functional(t, gqa()(h, h))
    _refused(build, "mask_zero", "grouped_query_attention")


def test_a_padding_mask_that_pooling_would_use_is_refused():
    def build():
        t = ids()
        return functional(t, L.GlobalAveragePooling1D()(L.Dense(4)(rev(mask_zero=True)(t))))
    _refused(build, "mask_zero", "global_average_pooling1d")


def test_calling_both_ways_on_inputs_of_one_rank_is_refused():
    def build():
        t = keras.Input((2, 6), dtype="int32")
        layer = rev()
        x = layer(t)  # (batch, 2, 6, 6)
        return functional(t, layer(L.Reshape((12, 6))(x), reverse=True))
    _refused(build, "rank")


def test_a_quantized_reversible_embedding_is_refused():
    def build():
        model = re_lookup()()
        model.layers[-1].quantize("int8")
        return model
    _refused(build, "quantiz")


def test_a_reversible_embedding_with_lora_is_refused():
    def build():
        model = re_lookup()()
        model.layers[-1].enable_lora(2)
        return model
    _refused(build, "lora_rank")


def test_flash_attention_with_scores_is_refused_as_keras_refuses_it():
    def build():
        x = seq()
        out, scores = gqa(flash_attention=True)(x, x, return_attention_scores=True)
        return functional(x, [out, scores])
    _refused(build, "flash_attention")


def test_hand_passed_query_masks_are_refused():
    def build():
        q, v = seq((5, 8)), seq((7, 8))
        qm = keras.Input((5,), dtype="bool")
        return functional([q, v, qm], gqa()(q, v, None, qm))
    _refused(build, "positional")


def test_spectral_normalization_of_an_embedding_is_refused():
    def build():
        t = ids()
        return functional(t, L.SpectralNormalization(L.Embedding(VOCAB, 4))(t))
    _refused(build, "int32", "dtype")


def test_rms_norm_on_inner_axes_is_refused_on_the_torch_backend(monkeypatch):
    model = BY_ID["rms_norm_middle_axis_scale_broadcasts_last"].build()
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(UnsupportedLayerError, match=r"axis=\[1\].*Fix:"):
        translate_model(model)
    translate_model(BY_ID["rms_norm_two_axes"].build())  # trailing axes: the same on every backend
