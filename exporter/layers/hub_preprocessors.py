"""A keras-hub task saved with its preprocessor, as one model that takes raw strings.

keras-hub keeps a task's preprocessor (tokenizer + packer) outside the task's graph: the task's
Functional graph takes token ids, and `task.predict(texts)` runs the preprocessor first. webnets
builds the model a page wants instead:

    strings (one input per segment) -> RaggedTokenizer (the task's tokenizer) -> the packer
      -> token_ids, segment_ids, padding_mask (as the backbone names them) -> the task

In TF.js the tokenizer and packer are webnets classes (exporter/runtime/webnets-tokenizers.js), so the
export takes text and gives what keras-hub gives for it. Today this covers the text classifier
preprocessors (`TextClassifierPreprocessor`: BertTextClassifierPreprocessor, DistilBert..., ...: the
task's predictions) and the causal LM preprocessors (`CausalLMPreprocessor`: GPT2CausalLMPreprocessor,
...: `generate_preprocess`, start value + text, then the logits of every position); other
preprocessors keep the token-id export unless `preprocessor=True` asks for text.
"""

from ..errors import ExportError

__all__ = ["with_preprocessor", "RaggedTokenizer"]

_RAGGED_TOKENIZER = None


def _ragged_tokenizer_class():
    """Defined on first use, so importing webnets does not import Keras."""
    global _RAGGED_TOKENIZER
    if _RAGGED_TOKENIZER is None:
        import keras

        @keras.saving.register_keras_serializable(package="webnets")
        class RaggedTokenizer(keras.layers.Layer):
            """A keras-hub tokenizer feeding a packer: in Keras, the tokenizer's own ragged rows (what
            keras-hub's preprocessor hands its packer); in TF.js, each text's ids padded with -1 to
            `sequence_length` (the packer's: it never keeps more of one text)."""

            def __init__(self, tokenizer, sequence_length, **kwargs):
                super().__init__(trainable=False, **kwargs)
                self.tokenizer = tokenizer
                self.sequence_length = int(sequence_length)
                self.built = True  # no weights: Keras need not trace call() to build it

            def call(self, texts):
                import numpy as np
                import tensorflow as tf

                rows = self.tokenizer(texts)
                if isinstance(rows, (tf.Tensor, tf.RaggedTensor, np.ndarray)):
                    return rows
                # keras-hub's Python path gives a list of lists, which a Functional graph would flatten
                # into its ints: hand the packer one ragged tensor (it reads those the same way).
                values = np.array([i for row in rows for i in row], dtype="int32")
                return tf.RaggedTensor.from_row_lengths(values, np.array([len(row) for row in rows], dtype="int64"))

            def compute_output_spec(self, texts):
                return keras.KerasTensor((*texts.shape, None), dtype="int32")

            def get_config(self):
                return {**super().get_config(), "sequence_length": self.sequence_length}

        _RAGGED_TOKENIZER = RaggedTokenizer
    return _RAGGED_TOKENIZER


def __getattr__(name):
    if name == "RaggedTokenizer":
        return _ragged_tokenizer_class()
    raise AttributeError(name)


def _refuse(task, problem):
    return ExportError(
        f"'{task.name}' ({type(task).__name__}) was saved with its preprocessor "
        f"({type(task.preprocessor).__name__}), and webnets cannot build the model that takes raw strings: "
        f"{problem} Fix: convert with preprocessor=False to export the task's token-id model (tokenize in "
        "JavaScript with webnetsTokenizers.tokenizer(spec)), or save the task with keras-hub's own text classifier "
        "or causal LM preprocessor (a tokenizer and a packer).")


def _is_task_with_preprocessor(model):
    import sys

    if "keras_hub" not in sys.modules:  # a keras-hub model was loaded with keras_hub imported; don't import it
        return False
    from keras_hub.models import Task

    return isinstance(model, Task) and getattr(model, "preprocessor", None) is not None


def _kinds():
    """(keras-hub preprocessor base, the methods whose behaviour the graph reproduces, graph builder)."""
    from keras_hub.models import CausalLMPreprocessor, TextClassifierPreprocessor

    return ((TextClassifierPreprocessor, ("call", "_call_python", "_call_tf", "build"), _text_classifier_model),
            (CausalLMPreprocessor, ("generate_preprocess", "_generate_preprocess_python", "_generate_preprocess_tf",
                                    "build"), _causal_lm_model))


def _plan(task):
    """(builder, tokenizer, packer) for a preprocessor of a kind webnets builds that computes what its
    base computes, or a sentence saying why not."""
    preprocessor = task.preprocessor
    for base, methods, builder in _kinds():
        if not isinstance(preprocessor, base):
            continue
        overridden = [m for m in methods if getattr(type(preprocessor), m, None) is not getattr(base, m, None)]
        if overridden:
            return (f"{type(preprocessor).__name__} overrides {', '.join(overridden)} of {base.__name__}, so it "
                    "computes something the graph webnets builds does not.")
        if getattr(preprocessor, "packer", None) is None:
            preprocessor.build(None)  # keras-hub makes the packer in build(), once the vocabulary is loaded
        if preprocessor.tokenizer is None or preprocessor.packer is None:
            return "it has no tokenizer or no packer."
        return builder, preprocessor.tokenizer, preprocessor.packer
    return (f"webnets builds text models for text classifier and causal LM preprocessors, and this is a "
            f"{type(preprocessor).__name__}.")


def _check_translates(task, *layers):
    from .translators import translator_for
    from ..text.hub_tokenizers import tokenizer_spec

    for layer in layers:
        try:
            if hasattr(layer, "vocabulary_size"):  # the tokenizer: its own refusals name the option
                tokenizer_spec(layer)
            else:
                translator_for(layer)
        except ExportError as error:
            raise _refuse(task, f"its {type(layer).__name__} does not translate ({error})") from None


def _text_classifier_model(task, tokenizer, packer, segments):
    import keras

    from .live_graph import _call_inlined

    task_inputs = task.input if isinstance(task.input, dict) else None
    if task_inputs is None:
        raise _refuse(task, "its graph does not take a dict of token_ids / segment_ids / padding_mask.")
    unknown = sorted(set(task_inputs) - {"token_ids", "segment_ids", "padding_mask"})
    if unknown:
        raise _refuse(task, f"its graph takes {', '.join(unknown)}, which the preprocessor does not make.")
    # keras-hub's packer is symbolic as one tensor; called on segments it gives (token_ids, segment_ids).
    packer.compute_output_spec = lambda *args, **kwargs: (
        keras.KerasTensor((None, packer.sequence_length), dtype="int32"),
        keras.KerasTensor((None, packer.sequence_length), dtype="int32"))
    ragged = _ragged_tokenizer_class()
    texts = [keras.Input(shape=(), dtype="string", name="text" if segments == 1 else f"text_{i + 1}")
             for i in range(segments)]
    rows = tuple(ragged(tokenizer, packer.sequence_length, name=f"{tokenizer.name}_ids_{i + 1}")(text)
                 for i, text in enumerate(texts))
    token_ids, segment_ids = packer(rows)
    made = {"token_ids": token_ids, "segment_ids": segment_ids,
            # keras-hub: padding_mask = token_ids != pad_token_id (as the backbone's input dtype)
            "padding_mask": keras.ops.cast(keras.ops.not_equal(token_ids, tokenizer.pad_token_id),
                                           task_inputs.get("padding_mask", token_ids).dtype)}
    # The task's layers called in this graph (a nested task would keep the node numbering of its earlier
    # calls); keras.tree.flatten orders a dict by key, as the task's own inputs.
    outputs = _call_inlined(task, keras.tree.flatten({name: made[name] for name in task_inputs}))
    return keras.Model(texts if segments > 1 else texts[0], outputs, name=task.name)


def _causal_lm_model(task, tokenizer, packer, segments):
    """keras-hub's `generate_preprocess`: the start value, the text, no end value (generation goes on
    from the text), padded; token_ids and padding_mask -> the task's logits for every position."""
    import keras
    from keras_hub.layers import StartEndPacker

    from .live_graph import _call_inlined

    if segments != 1:
        raise _refuse(task, f"a causal LM takes one text, and {segments} segments were asked for.")
    task_inputs = task.input if isinstance(task.input, dict) else {}
    if set(task_inputs) != {"token_ids", "padding_mask"}:
        raise _refuse(task, f"its graph takes {sorted(task_inputs) or 'no dict'}, not token_ids and padding_mask.")
    # generate_preprocess calls the packer with add_end_value=False: the same packer without an end value.
    prompt_packer = StartEndPacker(sequence_length=packer.sequence_length, start_value=packer.start_value,
                                   pad_value=packer.pad_value, return_padding_mask=True,
                                   padding_side=packer.padding_side, name=f"{packer.name}_prompt")
    _check_translates(task, prompt_packer)
    text = keras.Input(shape=(), dtype="string", name="text")
    rows = _ragged_tokenizer_class()(tokenizer, packer.sequence_length, name=f"{tokenizer.name}_ids")(text)
    token_ids, padding_mask = prompt_packer(rows)
    made = {"token_ids": token_ids, "padding_mask": keras.ops.cast(padding_mask, task_inputs["padding_mask"].dtype)}
    outputs = _call_inlined(task, keras.tree.flatten(made))
    return keras.Model(text, outputs, name=task.name)


def with_preprocessor(model, preprocessor=None):
    """The model to convert: for a keras-hub task saved with a text classifier or causal LM
    preprocessor, a model taking raw strings (one input per segment) and giving the task's outputs;
    otherwise `model`.

    Args:
        model: the loaded Keras model.
        preprocessor: None (default): build the string model where webnets knows the preprocessor's
            kind, refuse when that kind's parts do not translate, keep the token-id model for other kinds;
            True: build it or refuse; an int n > 1: the same with n text segments (sentence pairs: 2);
            False: the task's token-id model, as keras-hub's graph has it.

    Raises:
        ExportError naming what is missing, when the string model was asked for (or is the default)
        and cannot be built.
    """
    if preprocessor is False or not _is_task_with_preprocessor(model):
        return model
    segments = preprocessor if isinstance(preprocessor, int) and not isinstance(preprocessor, bool) else 1
    if segments < 1:
        raise ExportError(f"preprocessor={preprocessor!r}: the number of text segments must be at least 1. "
                          "Fix: pass True (one text), 2 (sentence pairs), or False (token ids).")
    plan = _plan(model)
    if isinstance(plan, str):
        if preprocessor is None:
            return model  # a preprocessor webnets does not build yet: today's token-id export
        raise _refuse(model, plan)
    builder, tokenizer, packer = plan
    _check_translates(model, tokenizer, packer)
    return builder(model, tokenizer, packer, segments)
