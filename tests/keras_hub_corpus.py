"""keras-hub models with tiny configs and random weights: the corpus the keras-hub tests convert.

Each builder returns a live model as keras-hub builds it (tasks around backbones, dict inputs);
`token_inputs` gives valid token ids, segment ids and padding masks for any sequence length.
"""

import keras
import keras_hub
import numpy as np

M = keras_hub.models
VOCAB = 50
MAX_LENGTH = 16


def bert_classifier():
    # No dropout: the training-step test compares one SGD step, which dropout would make random.
    backbone = M.BertBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=16,
                              max_sequence_length=MAX_LENGTH, dropout=0.0)
    return M.BertTextClassifier(backbone=backbone, num_classes=3, preprocessor=None, dropout=0.0)


def bert_masked_lm():
    """BERT's pretraining head: MaskedLMHead gathers the masked positions and projects them through the
    token embedding, reversed."""
    backbone = M.BertBackbone(vocabulary_size=VOCAB, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
                              max_sequence_length=MAX_LENGTH, dropout=0.0)
    return M.BertMaskedLM(backbone=backbone, preprocessor=None)


def distil_bert_classifier():
    backbone = M.DistilBertBackbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=8,
                                    intermediate_dim=16, max_sequence_length=MAX_LENGTH, dropout=0.0)
    return M.DistilBertTextClassifier(backbone=backbone, num_classes=3, preprocessor=None, dropout=0.0)


def gpt2_causal_lm():
    backbone = M.GPT2Backbone(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=8, intermediate_dim=16,
                              max_sequence_length=MAX_LENGTH)
    return M.GPT2CausalLM(backbone=backbone, preprocessor=None)


def gemma_causal_lm():
    backbone = M.GemmaBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=2, num_key_value_heads=1,
                               hidden_dim=8, intermediate_dim=16, head_dim=4)
    return M.GemmaCausalLM(backbone=backbone, preprocessor=None)


def gemma3_causal_lm():
    backbone = M.Gemma3Backbone(vocabulary_size=VOCAB, image_size=16, num_layers=2, num_query_heads=2,
                                num_key_value_heads=1, hidden_dim=8, intermediate_dim=16, head_dim=4,
                                use_sliding_window_attention=True, sliding_window_size=4)
    return M.Gemma3CausalLM(backbone=backbone, preprocessor=None)


def llama_causal_lm():
    backbone = M.LlamaBackbone(vocabulary_size=VOCAB, num_layers=2, num_query_heads=4, num_key_value_heads=2,
                               hidden_dim=8, intermediate_dim=16)
    return M.LlamaCausalLM(backbone=backbone, preprocessor=None)


def vit_classifier():
    backbone = M.ViTBackbone(image_shape=(16, 16, 3), patch_size=4, num_layers=2, num_heads=2, hidden_dim=8,
                             mlp_dim=16)
    return M.ViTImageClassifier(backbone=backbone, num_classes=3, preprocessor=None)


def resnet_classifier():
    backbone = M.ResNetBackbone(input_conv_filters=[64], input_conv_kernel_sizes=[3], stackwise_num_filters=[64, 64],
                                stackwise_num_blocks=[1, 1], stackwise_num_strides=[1, 2], block_type="basic_block",
                                image_shape=(16, 16, 3))
    return M.ResNetImageClassifier(backbone=backbone, num_classes=3, preprocessor=None)


def token_encoder_classifier():
    """keras.io's text classifier: TokenAndPositionEmbedding + TransformerEncoder + pooling."""
    tokens = keras.Input((MAX_LENGTH,), dtype="int32")
    x = keras_hub.layers.TokenAndPositionEmbedding(VOCAB, MAX_LENGTH, 8)(tokens)
    x = keras_hub.layers.TransformerEncoder(16, 2)(x)
    return keras.Model(tokens, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(x)))


def gpt_style_decoder():
    """keras.io's miniature GPT: TokenAndPositionEmbedding + a causal TransformerDecoder + logits."""
    tokens = keras.Input((MAX_LENGTH,), dtype="int32")
    x = keras_hub.layers.TokenAndPositionEmbedding(VOCAB, MAX_LENGTH, 8)(tokens)
    x = keras_hub.layers.TransformerDecoder(16, 2)(x)
    return keras.Model(tokens, keras.layers.Dense(VOCAB)(x))


def sine_decoder():
    """SinePositionEncoding + a causal TransformerDecoder, on any sequence length."""
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(VOCAB, 8)(tokens)
    x = x + keras_hub.layers.SinePositionEncoding()(x)
    x = keras_hub.layers.TransformerDecoder(16, 2)(x)
    return keras.Model(tokens, keras.layers.Dense(VOCAB)(x))


CORPUS = {f.__name__: f for f in [bert_classifier, bert_masked_lm, distil_bert_classifier, gpt2_causal_lm, gemma_causal_lm,
                                   gemma3_causal_lm, llama_causal_lm, vit_classifier, resnet_classifier,
                                   token_encoder_classifier, gpt_style_decoder, sine_decoder]}


def token_inputs(model, length, batch=2, seed=0):
    """Inputs in model.inputs order: token ids below the vocabulary, segment ids 0/1, padding masks with
    a padded tail in the first row, images for image models."""
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        name = tensor._keras_history[0].name
        shape = [batch] + [length if d is None else d for d in tensor.shape[1:]]
        if "mask_positions" in name:  # BertMaskedLM: which positions to predict, below the length
            arrays.append(rng.integers(0, length, size=[batch, tensor.shape[1] or 2]).astype("int32"))
        elif "padding_mask" in name:
            mask = np.ones(shape, "int32")
            mask[0, max(1, shape[1] - 3):] = 0
            arrays.append(mask)
        elif "segment" in name:
            arrays.append((np.arange(shape[1])[None, :] >= shape[1] // 2).astype("int32").repeat(batch, 0))
        elif "int" in str(tensor.dtype):
            arrays.append(rng.integers(1, VOCAB, size=shape).astype("int32"))
        else:
            arrays.append(rng.standard_normal(shape).astype("float32"))
    return arrays
