"""Core layers: InputLayer, Dense, Activation, Embedding, Masking and the
regularization layers (Dropout and friends), which are identities at inference."""

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
