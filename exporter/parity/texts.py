"""Sample texts for models that take strings (the parity check's and golden vectors' inputs).

A string model's sample inputs mix the words its own vocabularies hold (so lookups are exercised, not
only the out-of-vocabulary index) with words no vocabulary holds, in mixed case, with punctuation,
accents, CJK and emoji, and an empty string: what TensorFlow's and webnets' string handling could
disagree on.
"""

import numpy as np

__all__ = ["sample_texts", "EXTRA_WORDS"]

# Words beyond any vocabulary, chosen for the edge cases of lowercasing, punctuation and splitting.
EXTRA_WORDS = ("Hello,", "WORLD!", "Éléphant", "naïve", "ΣΟΦΙΑ", "Привет", "İstanbul", "東京", "😀", "don't",
               "e-mail", "...", "“quoted”", "tab\there", "new\nline", "x")


def _vocabulary_words(model):
    """The tokens of the model's string vocabularies (TextVectorization, StringLookup), without specials."""
    words, splits = [], False
    stack = list(model.layers)
    while stack:
        layer = stack.pop()
        stack.extend(getattr(layer, "layers", None) or [])
        if type(layer).__name__ == "TextVectorization":
            splits |= layer.get_config().get("split") is not None
        if type(layer).__name__ in ("TextVectorization", "StringLookup") and hasattr(layer, "get_vocabulary"):
            try:
                words += [str(w) for w in layer.get_vocabulary(include_special_tokens=False)]
            except Exception:  # a layer with no vocabulary yet: the extra words will do
                pass
    return words, splits


def sample_texts(model, shape, rng):
    """A numpy str array of `shape` for one string input of `model`: sentences of 1-8 words where a
    TextVectorization splits them, else single words; the last element is the empty string (the first,
    which golden vectors keep, is a text)."""
    vocabulary, sentences = _vocabulary_words(model)
    words = vocabulary[:200] + list(EXTRA_WORDS)
    count = int(np.prod(shape))

    def word():
        w = words[int(rng.integers(len(words)))]
        return w.upper() if rng.random() < 0.2 else w

    texts = [" ".join(word() for _ in range(int(rng.integers(1, 9)))) if sentences else word() for _ in range(count)]
    if len(texts) > 1:
        texts[-1] = ""
    return np.asarray(texts, dtype=str).reshape(shape)
