"""keras-hub's shared layers whose call() does not trace into a fixed graph, as webnets classes.

keras-hub's composite layers (TokenAndPositionEmbedding, TransformerEncoder, TransformerDecoder,
the family blocks) are traced (exporter/layers/tracing.py) into their sublayers and ops. The
layers here are the leaves of those traces that need a translator of their own:

- `PositionEmbedding` slices its table to the length of the sequence it is given; traced, that
  length would be frozen into the graph, so a text model would only take the traced length. As
  `WebnetsPositionEmbedding` it takes any length up to its `sequence_length`.
- `RotaryEmbedding` (and subclasses that change only its frequencies) computes its cos/sin tables
  from the sequence length; as `WebnetsRotaryEmbedding` it does so in TF.js.
- `SinePositionEncoding` computes its table from the sequence length: `WebnetsSinePositionEncoding`.
- ViT's `ViTPatchingAndEmbedding` tiles its class token by the batch size: a Conv2D, a
  `WebnetsClassToken` and a `WebnetsPositionEmbedding` that hold its weights.
- `CachedMultiHeadAttention` is Keras' MultiHeadAttention plus a key/value cache for generation.
  Called without a cache (every full-sequence forward pass, training included) it computes what
  MultiHeadAttention computes, and exports as it does.

Keys are the names keras-hub registers its classes under (`keras_hub>Name`).
"""

import math

import numpy as np

from .attention import multi_head_attention
from .common import ConfigReader, initializer, input_shape
from .registry import TfjsLayer, register

_CACHE_ARGUMENTS = ("cache", "cache_update_index")


@register("keras_hub>PositionEmbedding", becomes="WebnetsPositionEmbedding", call_tensors=(),
          note="learned positions, any sequence length up to sequence_length, start_index as a number")
def position_embedding(layer, config, call):
    reader = ConfigReader(layer, config)
    reader.copy("sequence_length")
    reader.out["initializer"] = initializer(reader.get("initializer"))
    reader.out["start_index"] = _start_index(reader, call)
    return reader.finish("WebnetsPositionEmbedding")


@register("keras_hub>CachedMultiHeadAttention", becomes="WebnetsMultiHeadAttention",
          call_tensors=("query", "value", "key", "attention_mask"),
          note="without a cache: MultiHeadAttention (the full-sequence forward pass)")
def cached_multi_head_attention(layer, config, call):
    if any(call.options.get(name) is not None for name in _CACHE_ARGUMENTS) or any(
            name in call.tensors for name in _CACHE_ARGUMENTS):
        ConfigReader(layer, config).refuse(
            "it is called with a key/value cache (step-by-step generation), which a TF.js layers model cannot "
            "carry between calls.", "export the model's full-sequence forward pass (no cache).")
    options = {k: v for k, v in call.options.items() if k not in _CACHE_ARGUMENTS}
    return multi_head_attention(layer, config, type(call)(call.args, call.tensors, options))


# The methods that make RotaryEmbedding's math; a subclass overriding only its frequencies
# (`_get_inverse_freq`, as LlamaRotaryEmbedding does) shares the translator.
_ROTARY_MATH = ("call", "_compute_cos_sin_embedding", "_apply_rotary_pos_emb", "_compute_positions",
                "_normalize_axes")


@register("keras_hub>RotaryEmbedding", becomes="WebnetsRotaryEmbedding", call_tensors=(),
          subclasses_unless=_ROTARY_MATH,
          note="every rope_type and scaling (the frequencies as Keras computes them), any sequence length, "
               "start_index as a number; subclasses that change only the frequencies (Llama's)")
def rotary_embedding(layer, config, call):
    """Rotary position embedding: the inverse frequencies come from the layer's own `_get_inverse_freq`,
    run here by Keras, so every rope_type and scaling option (linear, dynamic, yarn, Llama 3's bands) is
    exactly Keras'; the positions are computed in TF.js for the sequence it is given."""
    reader = ConfigReader(layer, config)
    reader.copy("sequence_axis", "feature_axis")
    reader.ignore(*(key for key in config if key not in reader.handled))  # they shape the frequencies below
    start = _start_index(reader, call)
    shape = input_shape(reader)
    rotary_dim = shape[config.get("feature_axis", -1)]
    reader.out["inverse_frequencies"] = [float(f) for f in np.asarray(layer._get_inverse_freq(rotary_dim))]
    scale = 1.0
    if getattr(layer, "rope_type", "linear") == "yarn":  # keras-hub scales cos and sin by this for YaRN
        scale = 0.1 * math.log(float(layer.scaling_factor)) + 1.0
    reader.out.update(scale=scale, start_index=start)
    return reader.finish("WebnetsRotaryEmbedding", weights=[])


@register("keras_hub>SinePositionEncoding", becomes="WebnetsSinePositionEncoding", call_tensors=(),
          note="max_wavelength, any sequence length, start_index as a number")
def sine_position_encoding(layer, config, call):
    reader = ConfigReader(layer, config)
    reader.copy("max_wavelength")
    reader.out["start_index"] = _start_index(reader, call)
    return reader.finish("WebnetsSinePositionEncoding", weights=[])


@register("keras_hub.src.models.vit.vit_layers.ViTPatchingAndEmbedding", becomes="Conv2D, WebnetsClassToken, "
          "WebnetsPositionEmbedding, Add", note="ViT's patches: channels_last; class token optional")
def vit_patching_and_embedding(layer, config, call=None):
    """Conv2D patches, flattened to tokens, a learned class token in front, learned positions added.

    Traced, the class token would be tiled by a batch size read from ops.shape (unknown at export)
    and the position table looked up by constant ids (frozen into the graph, so it would not train);
    here each is a layer holding its weight."""
    reader = ConfigReader(layer, config)
    reader.ignore("image_size", "patch_size", "hidden_dim", "num_channels", "use_patch_bias", "num_patches",
                  "num_positions")  # read from the live sublayers and weights below
    reader.require("data_format", ["channels_last", None], "use channels_last images.")
    use_class_token = reader.get("use_class_token", True)
    name = reader.out["name"]
    from . import translate_layer  # the package imports this module while it registers translators

    conv = translate_layer(layer.patch_embedding)
    for piece in conv:
        piece.config["name"] = f"{name}__{piece.name}"
    tokens = TfjsLayer("Reshape", {"name": f"{name}__tokens", "target_shape": [-1, layer.hidden_dim]})
    pieces = [*conv, tokens]
    if use_class_token:
        pieces.append(TfjsLayer("WebnetsClassToken", {"name": f"{name}__class_token"},
                                [("class_token", layer.class_token)]))
    positions = TfjsLayer("WebnetsPositionEmbedding", {"name": f"{name}__positions",
                                                        "sequence_length": layer.num_positions, "start_index": 0},
                          [("embeddings", layer.position_embedding.embeddings)])
    reader.finish()  # every key accounted for
    return pieces + [positions, TfjsLayer("Add", {"name": name}, [], [pieces[-1], positions])]


def _start_index(reader, call):
    """A position layer's start_index: a number (0 for a full sequence); positions and tensors refused."""
    options = dict(call.options)
    start = options.pop("start_index", 0)
    if options.pop("positions", None) is not None or options:
        reader.refuse("it is called with explicit positions, which webnets does not export.",
                      "call it on the sequence only (start_index a number).")
    if not isinstance(start, int) or isinstance(start, bool):
        reader.refuse("its start_index is a tensor (generation with a cache), which a TF.js layer cannot take.",
                      "export the model's full-sequence forward pass (start_index=0).")
    return start
