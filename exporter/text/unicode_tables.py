"""The Unicode tables webnets-tokenizers.js embeds, generated from the Python that runs keras-hub.

They live in js/src/tokenizers/unicode-tables.js, a source of the JS package that js/build.mjs
builds into exporter/runtime/webnets-tokenizers.js.

keras-hub's WordPieceTokenizer (its TensorFlow-free path, the one eager calls take) classifies
characters with three sources, and each one is the reference the JavaScript must reproduce:

- the `regex` module for the split classes: `\\p{P}` (punctuation), `\\p{Cc}`, `\\p{Cf}`;
- `unicodedata` for `strip_accents` (category `Mn`) and for NFD / NFKC;
- `str.casefold` for `lowercase` (keras-hub's `casefold_utf8`: NFKC, casefold, NFKC, then drop
  the default-ignorable code points it lists).

A browser's own Unicode data is newer than Python 3.11's `unicodedata` (Unicode 14.0) and may differ
from the `regex` module's, so the JavaScript does not ask the browser which class a character is in:
it carries these ranges. Where it does use the browser (`String.prototype.normalize`,
`toLowerCase`), the tables say where the result must differ: `CASEFOLD` lists every code point
whose `str.casefold()` differs from its `str.lower()` (JavaScript's `toLowerCase` for one code
point), and `UNASSIGNED_IN_PYTHON` lists the code points Python's `unicodedata` does not know but a
newer Unicode (the `regex` module's) assigns: keras-hub leaves them unchanged (no decomposition, no
case, category Cn), so the JavaScript normalizes around them.

Regenerate after upgrading Python or `regex` (tests/test_tokenizers.py fails until you do), then
rebuild the script:

    python -m exporter.text.unicode_tables && make js
"""

import json
import re
import sys
import unicodedata
from pathlib import Path

__all__ = ["javascript_tables", "write_tables", "TOKENIZERS_SCRIPT", "BEGIN", "END"]

# A development tool: the tables are written into the JS package's source, in a repository checkout.
TOKENIZERS_SCRIPT = Path(__file__).resolve().parents[2] / "js" / "src" / "tokenizers" / "unicode-tables.js"
BEGIN = "// ---- BEGIN GENERATED UNICODE TABLES (python -m exporter.text.unicode_tables) ----"
END = "// ---- END GENERATED UNICODE TABLES ----"

# keras-hub's own CJK ranges (word_piece_tokenizer.PY_CJK_REGEX, from BERT's tokenization.py).
_CJK = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
        (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def _code_points():
    return (c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


def _ranges(predicate):
    """Sorted inclusive [start, end] ranges of the code points where predicate(chr) holds."""
    out = []
    for c in _code_points():
        if predicate(chr(c)):
            if out and out[-1][1] == c - 1:
                out[-1][1] = c
            else:
                out.append([c, c])
    return out


def _flat(ranges):
    return "[" + ",".join(f"0x{a:x},0x{b:x}" for a, b in ranges) + "]"


def javascript_tables() -> str:
    """The generated block of webnets-tokenizers.js, markers included."""
    import regex
    from keras_hub.src.utils.tensor_utils import _DEFAULT_IGNORABLE_RANGES

    punctuation = regex.compile(r"[!-/]|[:-@]|[\[-`]|[{-~]|[\p{P}]")  # word_piece_tokenizer.PY_PUNCTUATION_REGEX
    control = regex.compile(r"[ \t\n\r\f]|\p{Cc}|\p{Cf}")  # PY_WHITESPACE_REGEX
    assigned_by_regex = regex.compile(r"\p{Assigned}")
    casefold = {}
    for c in _code_points():
        ch = chr(c)
        if ch.casefold() != ch.lower():
            casefold[c] = ch.casefold()
    lines = [
        BEGIN,
        f"// Python {sys.version.split()[0]}, unicodedata {unicodedata.unidata_version}, regex {regex.__version__}",
        f"const WHITESPACE = {_flat(_ranges(lambda ch: control.fullmatch(ch) is not None))};",
        f"const PUNCTUATION = {_flat(_ranges(lambda ch: punctuation.fullmatch(ch) is not None))};",
        f"const CJK = {_flat(sorted([list(r) for r in _CJK]))};",
        f"const NONSPACING_MARK = {_flat(_ranges(lambda ch: unicodedata.category(ch) == 'Mn'))};",
        f"const DEFAULT_IGNORABLE = {_flat(sorted([list(r) for r in _DEFAULT_IGNORABLE_RANGES]))};",
        "const UNASSIGNED_IN_PYTHON = " + _flat(_ranges(
            lambda ch: unicodedata.category(ch) == "Cn" and assigned_by_regex.match(ch) is not None)) + ";",
        "const CASEFOLD = " + json.dumps({str(k): v for k, v in casefold.items()}, ensure_ascii=True,
                                         separators=(",", ":")) + ";",
        END,
    ]
    return "\n".join(lines)


def write_tables(path=TOKENIZERS_SCRIPT):
    """Replace the generated block of webnets-tokenizers.js with freshly generated tables."""
    text = Path(path).read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: no generated block between '{BEGIN}' and '{END}'")
    Path(path).write_text(pattern.sub(lambda _: javascript_tables(), text), encoding="utf-8")


if __name__ == "__main__":
    write_tables()
