"""Core layers: InputLayer, Dense, Activation, Embedding, ReversibleEmbedding, Masking and the
regularization layers (Dropout and friends), which are identities at inference."""

import inspect

import keras

from .common import ConfigReader, activation_key, activation_pieces, input_shape, with_fused_activation
from .registry import register

_DENSE_INITS = ("kernel_initializer", "bias_initializer")


@register("InputLayer", note="batch_shape -> batch_input_shape; integer dtypes -> int32")
def input_layer(layer, config):
    reader = ConfigReader(layer, config)
    reader.require("sparse", [False], "feed dense tensors.")
    reader.require("ragged", [False], "pad sequences to a fixed length.")
    reader.ignore("optional", "input_tensor")
    shape = reader.get("batch_shape") or [None] + list(reader.get("shape", []))
    reader.ignore("shape")
    reader.out["batch_input_shape"] = list(shape)
    reader.out["sparse"] = False
    reader.out.pop("trainable")
    return reader.finish(weights=[])


@register("Dense", becomes="Dense / WebnetsDense",
          note="on inputs of rank > 2 (sequences) WebnetsDense: tfjs' Dense transposes its kernel on every call")
def dense(layer, config):
    reader = ConfigReader(layer, config)
    reader.copy("units", "use_bias").initializers(*_DENSE_INITS)
    reader.regularizers("kernel_regularizer", "bias_regularizer", "activity_regularizer")
    reader.constraints("kernel_constraint", "bias_constraint")
    reader.require("quantization_config", [None], "export the float model and let webnets quantize.")
    reader.require("lora_rank", [None], "merge the LoRA weights first (layer.enable_lora / merge).")
    reader.ignore("lora_alpha")
    shape = input_shape(reader, required=False)
    # A Dense over [batch, time, features]: webnets-layers.js' WebnetsDense does one matMul with the
    # kernel as stored (tfjs' K.dot transposes it per call, which defeats WASM's packed-weight cache).
    sequence = shape is not None and len(shape) > 2 and not reader.get("activity_regularizer")
    return with_fused_activation(reader, class_name="WebnetsDense" if sequence else None)


@register("Activation", note="Keras-only activations (leaky_relu, hard_sigmoid, hard_silu) lowered exactly")
def activation(layer, config):
    reader = ConfigReader(layer, config)
    name = activation_key(reader.get("activation"))
    reader.finish()  # validates the remaining keys
    return activation_pieces(config["name"], name, layer)


@register("Embedding", note="integer inputs; mask_zero kept")
def embedding(layer, config):
    reader = ConfigReader(layer, config)
    reader.copy("input_dim", "output_dim", "mask_zero")
    reader.initializers("embeddings_initializer").regularizers("embeddings_regularizer", "activity_regularizer")
    reader.constraints("embeddings_constraint")
    reader.require("lora_rank", [None], "merge the LoRA weights first.")
    reader.require("quantization_config", [None], "export the float model and let webnets quantize.")
    reader.ignore("lora_alpha", "input_length", "weights")
    return reader.finish()


@register("ReversibleEmbedding", becomes="WebnetsReversibleEmbedding",
          note="token ids -> vectors and, with reverse=True, vectors -> logits (tied or separate kernel), both "
          "calls of one layer on ONE TF.js weight; logit_soft_cap; reverse_dtype float32/float64; mask_zero "
          "where no layer uses the mask", call_tensors=("reverse",))
def reversible_embedding(layer, config, call):
    # `reverse` is declared a call argument (it is never a tensor) only so that topology's rule "every call
    # of a layer passes the same options" leaves it out: a language model calls the layer both ways. Each
    # call's direction is read from the live graph below.
    reader = ConfigReader(layer, config)
    reader.copy("input_dim", "output_dim", "tie_weights", "logit_soft_cap")
    reader.initializers("embeddings_initializer").regularizers("embeddings_regularizer")
    reader.constraints("embeddings_constraint")
    reader.ignore("activity_regularizer")  # a training loss on the outputs only; TF.js does not add it
    reader.require("lora_rank", [None], "merge the LoRA weights first.")
    reader.require("quantization_config", [None], "export the float model and let webnets quantize.")
    reader.ignore("lora_alpha", "input_length", "weights")
    if getattr(layer, "quantization_mode", None):
        reader.refuse(f"it is quantized ({layer.quantization_mode}) in Keras.",
                      "export the float model; webnets quantizes the exported weights itself (--quantize).")
    reverse_dtype = reader.get("reverse_dtype")
    if reverse_dtype not in (None, "float32", "float64"):
        reader.refuse(f"option reverse_dtype={reverse_dtype!r} makes Keras compute the logits in another precision "
                      "than TF.js, which computes in float32.", "use reverse_dtype=None or 'float32'.")
    calls = _embedding_calls(reader)
    embed_ranks = {rank for reverse, rank, _ in calls if not reverse}
    reverse_ranks = sorted({rank for reverse, rank, _ in calls if reverse})
    if embed_ranks & set(reverse_ranks):
        reader.refuse(f"it is called both ways on inputs of the same rank {sorted(embed_ranks & set(reverse_ranks))}; "
                      "TF.js hands a layer no per-call arguments, so WebnetsReversibleEmbedding tells a reverse call "
                      "by the rank of its input.", "give the token ids and the vectors different ranks.")
    reader.out["reverse_ranks"] = reverse_ranks
    if reader.get("mask_zero", False):
        _padding_mask_unused(reader, [outputs for reverse, _, outputs in calls if not reverse])
    return reader.finish("WebnetsReversibleEmbedding")


def _embedding_calls(reader):
    """(reverse, input rank, output KerasTensors) of each call of the layer in its graph."""
    calls = []
    for node in getattr(reader.layer, "_inbound_nodes", None) or []:
        args, kwargs = list(node.arguments.args), dict(node.arguments.kwargs)
        # Keras tests `if not reverse` (and takes only tensors positionally in a graph).
        reverse = bool(kwargs.get("reverse", False))
        inputs = args[0] if args else kwargs.get("inputs")
        calls.append((reverse, len(inputs.shape), list(node.outputs)))
    return calls


def _padding_mask_unused(reader, outputs):
    """Refuse mask_zero=True where Keras' padding mask would change a result.

    ReversibleEmbedding computes no mask in the graph (its compute_mask returns None), yet its lookup call
    sets the mask on the real output tensor when the model runs, and the layers after it receive it: those
    taking a mask argument use it, those supporting masking pass it on, the rest drop it (RMSNormalization
    does). webnets reads masks from the graph, so the TF.js model has none: the same results only when no
    layer taking a mask is reached. The reverse call of the layer itself takes none and drops it.
    """
    seen, frontier, users = set(), [t for call in outputs for t in call], []
    while frontier:
        tensor = frontier.pop()
        for node in tensor._keras_history.operation._outbound_nodes:
            consumer = node.operation
            if id(node) in seen or not any(t is tensor for t in node.arguments.keras_tensors):
                continue
            seen.add(id(node))
            if consumer is reader.layer or not isinstance(consumer, keras.layers.Layer):
                continue  # its own reverse call; keras.ops calls return tensors without a mask
            if _takes_mask(consumer):
                users.append(consumer.name)
            elif consumer.supports_masking:
                frontier.extend(node.outputs)
    if users:
        reader.refuse(f"option mask_zero=True: Keras hands the padding mask to {', '.join(sorted(set(users)))} when "
                      "the model runs, but not in the graph (ReversibleEmbedding computes no mask there), so "
                      "webnets cannot carry it to TF.js.",
                      "use mask_zero=False and pass the padding as an attention_mask, or a keras.layers.Embedding("
                      "mask_zero=True) for the token ids.")


def _takes_mask(layer):
    """Whether Keras fills a mask argument of the layer's call (`mask`, `query_mask`, ...)."""
    parameters = inspect.signature(layer.call).parameters
    return any(name == "mask" or name.endswith("_mask") for name in parameters)


@register("Masking")
def masking(layer, config):
    return ConfigReader(layer, config).copy("mask_value").finish()


@register("Dropout", "SpatialDropout1D", note="identity at inference: dropped at export (kept with --no-optimize)")
def dropout(layer, config):
    reader = ConfigReader(layer, config)
    reader.copy("rate", "seed", "noise_shape").ignore("data_format")
    return reader.finish()


@register(
    "SpatialDropout2D",
    "SpatialDropout3D",
    "ActivityRegularization",
    becomes="Dropout",
    note="identity at inference: dropped at export (a tfjs Dropout with --no-optimize)",
)
def inference_identity(layer, config):
    # TF.js has no such layer; all of them are identities at inference, which
    # is what a tfjs Dropout computes in predict(). Only training differs.
    reader = ConfigReader(layer, config).ignore("rate", "seed", "data_format", "l1", "l2", "noise_shape")
    reader.out["rate"] = float(config.get("rate", 0.0))
    return reader.finish("Dropout", weights=[])


@register("GaussianNoise", note="identity at inference: dropped at export (kept with --no-optimize)")
def gaussian_noise(layer, config):
    return ConfigReader(layer, config).copy("stddev", "seed").finish()


@register("GaussianDropout", note="identity at inference: dropped at export (kept with --no-optimize)")
def gaussian_dropout(layer, config):
    return ConfigReader(layer, config).copy("rate", "seed").finish()


@register("AlphaDropout", note="identity at inference: dropped at export (kept with --no-optimize)")
def alpha_dropout(layer, config):
    return ConfigReader(layer, config).copy("rate", "noise_shape", "seed").finish()


@register("EinsumDense", becomes="WebnetsEinsumDense", note="one matMul between transposes (no Einsum kernel on WASM)")
def einsum_dense(layer, config):
    reader = ConfigReader(layer, config).copy("equation").initializers("kernel_initializer", "bias_initializer")
    reader.regularizers("kernel_regularizer", "bias_regularizer", "activity_regularizer")
    reader.constraints("kernel_constraint", "bias_constraint")
    reader.require("quantization_config", [None], "export the float model and let webnets quantize.")
    reader.require("lora_rank", [None], "merge the LoRA weights first.")
    reader.ignore("lora_alpha", "output_shape", "bias_axes", "gptq_unpacked_column_size")
    left, output = config["equation"].replace("...", "").split("->")
    inputs, kernel = left.split(",")
    shared = sorted(set(inputs) & set(kernel) & set(output))
    if shared:
        reader.refuse(f"its equation keeps the axes {', '.join(shared)} of both the input and the kernel, a batched "
                      "contraction webnets does not lower.", "contract every axis the kernel shares with the input.")
    input_shape(reader)  # refuses inside a wrapper, where the output shape is unknown
    reader.out.update(kernel_shape=list(layer.kernel.shape), full_output_shape=list(layer.output.shape),
                      bias_shape=None if layer.bias is None else list(layer.bias.shape))
    return with_fused_activation(reader, class_name="WebnetsEinsumDense")
