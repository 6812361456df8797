"""The demo's executor for layers models (web_demo/js/runner.js, WN.compileRunner) in headless
Chromium: it gives what tfjs-layers' own execute()/predict() give and what Keras gives, on WASM,
WebGL and CPU, for the zoo (what the demo predicts with) and for user models built to reach its
edges: shared layers on two inputs, a nested model, two outputs, layers that hand their input back
(an alias of a model input and of a model output), a recurrent layer with its state as an input,
and every class the runner turns into a plain TF.js op. It leaks no tensor, reads weights that
training changed, holds no more memory at its peak than predict() does, and refuses models with masks (the demo then uses execute())."""

import json

import keras
import numpy as np
import pytest
from keras import layers

from exporter import export_keras_model
from exporter.browser.chromium import WEB_DEMO, chromium_path
from exporter.browser.serve import serving
from exporter.parity.tolerances import BROWSER_BOUND, FLOAT32_BOUND, max_relative_error
from tests.browser import Page, chromium

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed (apt-get install chromium)")

# The runner and tfjs-layers run the same kernels on the same backend; only WebGL may reorder a sum.
SAME_KERNELS_BOUND = {"wasm": 1e-6, "cpu": 1e-6, "webgl": 1e-5}


def siamese():
    """One Conv2D + Dense tower applied to two inputs (a layer with two inbound nodes: tfjs-layers'
    execute() cannot name such a model's outputs), compared by subtraction and concatenation."""
    a, b = keras.Input((8, 8, 1), name="left"), keras.Input((8, 8, 1), name="right")
    conv = layers.Conv2D(4, 3, activation="relu", name="shared_conv")
    pool = layers.GlobalMaxPooling2D(name="shared_pool")
    ea, eb = pool(conv(a)), pool(conv(b))
    x = layers.Concatenate(name="concat")([layers.Subtract(name="diff")([ea, eb]), layers.Multiply(name="prod")([ea, eb])])
    return keras.Model([a, b], layers.Dense(3, activation="softmax", name="out")(x), name="siamese")


def nested_two_heads():
    """A Sequential block inside a functional model, two outputs, and layers that return their input
    at inference: Dropout straight on the model input, and a linear Activation as an output."""
    block = keras.Sequential([keras.Input((6, 6, 3)), layers.Conv2D(5, 3, padding="same", activation="relu6"),
                              layers.BatchNormalization(), layers.AveragePooling2D(2)], name="block")
    inp = keras.Input((6, 6, 3), name="image")
    x = layers.Dropout(0.3, name="drop_input")(inp)
    x = block(x)
    x = layers.ZeroPadding2D(1, name="pad")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    flat = layers.Flatten(name="flat")(x)
    hidden = layers.Dense(7, activation="elu", name="hidden")(flat)
    head_a = layers.Activation("linear", name="head_a")(layers.Dropout(0.5, name="drop")(hidden))
    head_b = layers.Softmax(name="head_b")(layers.Dense(4, name="logits")(layers.ReLU(name="relu")(hidden)))
    return keras.Model(inp, [head_a, head_b], name="nested_two_heads")


def residual():
    """Add, ReLU, GlobalAveragePooling2D, Dense with tanh (not fused: the runner applies it apart),
    Conv2D with sigmoid and without bias."""
    inp = keras.Input((10, 10, 2), name="image")
    x = layers.Conv2D(6, 3, padding="same", activation="sigmoid", use_bias=False, name="conv_a")(inp)
    y = layers.Conv2D(6, 1, name="conv_b")(x)
    x = layers.ReLU(name="relu")(layers.Add(name="add")([x, y]))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inp, layers.Dense(3, activation="tanh", name="out")(x), name="residual")


def gru_with_state():
    """A GRU whose initial state is a model input (the step form's shape): tfjs-layers' RNN sorts the
    state out of its inputs in apply(), which the runner goes through."""
    tokens, state = keras.Input((5,), dtype="int32", name="tokens"), keras.Input((8,), name="state")
    x = layers.Embedding(20, 6, name="embed")(tokens)
    seq, h = layers.GRU(8, return_sequences=True, return_state=True, reset_after=False, name="gru")(x, initial_state=state)
    return keras.Model([tokens, state], [layers.Dense(20, activation="softmax", name="out")(seq), h], name="gru_with_state")


def masked():
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 4, mask_zero=True, name="embed")(tokens)
    return keras.Model(tokens, layers.Dense(2, name="out")(layers.LSTM(5, name="lstm")(x)), name="masked")


USER_MODELS = {"siamese": siamese, "nested_two_heads": nested_two_heads, "residual": residual,
               "gru_with_state": gru_with_state, "masked": masked}


def sample_inputs(model, rng):
    arrays = []
    for spec in model.inputs:
        shape = (2, *spec.shape[1:])
        if "int" in str(spec.dtype):
            arrays.append(rng.integers(1, 20, size=shape).astype("int32"))
        else:
            arrays.append(rng.standard_normal(shape).astype("float32"))
    return arrays


def as_page(arrays):
    return [{"shape": list(a.shape), "data": a.ravel().tolist(), "dtype": "int32" if a.dtype.kind == "i" else "float32"}
            for a in arrays]


@pytest.fixture(scope="module")
def user_models(tmp_path_factory):
    """Exports of USER_MODELS (as written, no optimizer passes: the no-op layers stay), with an
    input and Keras' outputs for each."""
    root = tmp_path_factory.mktemp("runner-models")
    cases = {}
    rng = np.random.default_rng(0)
    for name, build in USER_MODELS.items():
        keras.utils.set_random_seed(1)
        model = build()
        export_keras_model(model, root / name, optimize=False, verify=False, log=lambda *_: None)
        x = sample_inputs(model, rng)
        y = model.predict(x if len(x) > 1 else x[0], verbose=0)
        cases[name] = {"inputs": as_page(x), "keras": [np.asarray(o).ravel().tolist() for o in (y if isinstance(y, list) else [y])]}
    return root, cases


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


# Page-side helper: the bytes a call adds at its peak over what lived before it (tf.profile).
PEAK_BYTES = """
const peak = async (f) => {
  const base = tf.memory().numBytes;
  const p = await tf.profile(() => { tf.dispose(f()); });
  return p.peakBytes - base;
};
"""

# Loads each model, runs the runner and tfjs-layers' predict() on the same inputs, and reports both
# outputs, the tensors left behind by a runner call, and whether the runner compiled.
COMPARE = """
async ([backend, cases, base]) => {""" + PEAK_BYTES + """
  if (!(await tf.setBackend(backend))) throw new Error(`no ${backend}`);
  await tf.ready();
  const out = {};
  for (const [name, c] of Object.entries(cases)) {
    const model = await tf.loadLayersModel(`${base}/${name}/model.json`);
    const runner = WN.compileRunner(model);
    const xs = c.inputs.map((i) => tf.tensor(i.data, i.shape, i.dtype));
    const arg = xs.length === 1 ? xs[0] : xs;
    const list = (y) => (Array.isArray(y) ? y : [y]);
    const reference = list(model.predict(arg));
    const result = {compiled: runner !== null, steps: runner && runner.steps,
                    predict: await Promise.all(reference.map(async (t) => Array.from(await t.data())))};
    tf.dispose(reference);
    if (runner) {
      runner.run(arg);  // first call may cache backend programs; count tensors from the second on
      const before = tf.memory().numTensors;
      const ys = list(runner.run(arg));
      result.runner = await Promise.all(ys.map(async (t) => Array.from(await t.data())));
      result.inputs_alive = xs.every((t) => !t.isDisposed);
      tf.dispose(ys);
      result.leaked = tf.memory().numTensors - before;
      // Peak memory of a call: intermediates are freed after their last reader, as predict() frees them.
      result.peak = {runner: await peak(() => runner.run(arg)), predict: await peak(() => model.predict(arg))};
    }
    tf.dispose(xs);
    model.dispose();
    out[name] = result;
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def page(browser, user_models):
    root, _ = user_models
    with serving({"/": WEB_DEMO, "/user/": root}) as base:
        # The demo page itself, so its runner.js is the one under test; ?backend= picks WebGL first.
        loaded = Page(browser, f"{base}/index.html?autoplay=0")
        yield loaded
        loaded.close()


@pytest.mark.parametrize("backend", ["wasm", "webgl", "cpu"])
def test_runner_matches_tfjs_layers_and_keras_on_user_models(page, user_models, backend):
    _, cases = user_models
    results = page.page.evaluate(COMPARE, [backend, cases, "/user"])
    assert results["masked"]["compiled"] is False  # masks need tfjs-layers' executor
    for name, r in results.items():
        if name == "masked":
            continue
        assert r["compiled"], name
        assert r["leaked"] == 0, f"{name} on {backend}: {r['leaked']} tensors left by a runner call"
        assert r["inputs_alive"], f"{name} on {backend}: the runner disposed a caller's input"
        # The runner's node order (by depth) may keep another branch's tensor a little longer.
        assert r["peak"]["runner"] <= 1.25 * r["peak"]["predict"], f"{name} on {backend}: peak bytes {r['peak']}"
        assert len(r["runner"]) == len(cases[name]["keras"])
        same = max_relative_error(r["runner"], r["predict"])
        assert same <= SAME_KERNELS_BOUND[backend], f"{name} on {backend}: runner vs predict() {same:.2e}"
        keras_error = max_relative_error(r["runner"], cases[name]["keras"])
        bound = BROWSER_BOUND if backend == "webgl" else FLOAT32_BOUND
        assert keras_error <= bound, f"{name} on {backend}: runner vs Keras {keras_error:.2e}"


def test_the_demo_predicts_through_the_runner(page):
    """Every zoo model in the demo runs on the runner, and its golden outputs (checked as it loaded)
    come out of it again; the runner's steps are the model's layers less its InputLayers, and its
    peak memory is execute()'s."""
    models = page.models
    assert models and all(m["state"] == "ready" for m in models.values()), models
    assert {name: m["executor"] for name, m in models.items()} == {name: "runner" for name in models}
    for name in ("squeezenet", "resnet"):
        golden = json.loads((WEB_DEMO / "models" / name / "meta.json").read_text())["golden"]
        outputs = page.predict(name, golden["inputs"][0])
        error = max_relative_error([o["data"] for o in outputs], [g["data"] for g in golden["outputs"]])
        assert error <= BROWSER_BOUND, f"{name}: {error:.2e}"
    for name in ("squeezenet", "googlenet", "resnet"):
        r = page.page.evaluate("""async (name) => {""" + PEAK_BYTES + """
          const model = await tf.loadLayersModel(`models/${name}/model.json`);
          const runner = WN.compileRunner(model);
          const x = tf.zeros([1, ...model.inputs[0].shape.slice(1)]);
          const names = model.outputs.map((o) => o.name);
          const result = {steps: runner.steps, layers: model.layers.filter((l) => l.getClassName() !== 'InputLayer').length,
                          runner: await peak(() => runner.run(x)), execute: await peak(() => model.execute(x, names))};
          tf.dispose(x);
          model.dispose();
          return result;
        }""", name)
        assert r["steps"] == r["layers"], (name, r)
        # Intermediates are freed after their last reader: a whole prediction's activations never live at once.
        assert r["runner"] <= 1.25 * r["execute"], (name, r)


def test_runner_reads_the_weights_training_changed(page, user_models):
    """One SGD step in the page changes the output; the runner compiled before it follows."""
    result = page.page.evaluate("""async ([base, input]) => {
      await tf.setBackend('cpu');  // tfjs-backend-wasm 4.22 has no Conv2D gradient kernels
      const model = await tf.loadLayersModel(`${base}/residual/model.json`);
      const runner = WN.compileRunner(model);
      const x = tf.tensor(input.data, input.shape);
      const before = Array.from(await runner.run(x).data());
      model.compile({optimizer: tf.train.sgd(0.5), loss: 'meanSquaredError'});
      await model.fit(x, tf.onesLike(model.predict(x)), {epochs: 1, batchSize: 2});
      const after = Array.from(await runner.run(x).data());
      const predicted = Array.from(await model.predict(x).data());
      return {before, after, predicted};
    }""", ["/user", user_models[1]["residual"]["inputs"][0]])
    assert max_relative_error(result["after"], result["before"]) > 1e-3
    assert max_relative_error(result["after"], result["predicted"]) <= 1e-6
