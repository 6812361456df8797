"""The `webnets` JavaScript package (js/), as a web developer meets it: the packed tarball is installed
into an application outside the repository, bundled with esbuild and run in headless Chromium, which
loads SqueezeNet by name and version range from a real S3-compatible CDN on loopback (moto, published
by `webnets publish`), on WebGPU (SwiftShader), checks every file against its SRI hash, keeps it in the
Cache API and loads it again with the network off. The classic-script build runs the same way from a
plain page, and the TypeScript declarations type-check an application written against them."""

import json
import os
import shutil
import subprocess
import tarfile
import uuid

import numpy as np
import pytest

from exporter.browser.chromium import ROOT, WEB_DEMO, WEBGPU_FLAGS
from exporter.browser.serve import serving
from exporter.parity.tolerances import BROWSER_BOUND, relative_error
from exporter.publish import publish
from exporter.publish.object_store import IMMUTABLE
from tests.browser import chromium, serve
from tests.s3_server import CREDENTIALS, make_cdn_bucket, moto_server, s3_client

JS = ROOT / "js"
APP = ROOT / "tests" / "js_app"
NODE_MODULES = ROOT / "node_modules"
VERSIONS = ["1.0.0", "1.2.0", "2.0.0"]
KEY = "webnets/squeezenet/{}/group1-shard1of1.bin"


def run(command, cwd, **kwargs):
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)
    assert proc.returncode == 0, f"{command}: {proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    """`npm pack` of js/ after `node js/build.mjs` (what `make js-package` does)."""
    run(["node", "js/build.mjs"], ROOT)
    out = tmp_path_factory.mktemp("pack")
    name = json.loads(run(["npm", "pack", str(JS), "--json", "--pack-destination", str(out)], ROOT))[0]["filename"]
    return out / name


@pytest.fixture(scope="module")
def app(tarball, tmp_path_factory):
    """The application: its own directory, the tarball installed by npm (offline: the package has no
    dependencies, TF.js is a peer the application brings), bundled by esbuild."""
    where = tmp_path_factory.mktemp("app")
    for name in ("main.js", "index.html", "app.ts"):
        shutil.copy(APP / name, where / name)
    (where / "package.json").write_text(json.dumps({"name": "app", "private": True,
                                                    "dependencies": {"webnets": f"file:{tarball}"}}))
    run(["npm", "install", "--offline", "--no-audit", "--no-fund", "--legacy-peer-deps"], where)
    # The application's own TF.js: the repository's pinned copy, linked in as `npm install` would put it.
    (where / "node_modules" / "@tensorflow").symlink_to(NODE_MODULES / "@tensorflow", target_is_directory=True)
    run([str(NODE_MODULES / ".bin" / "esbuild"), "main.js", "--bundle", "--format=esm", "--outfile=bundle.js",
         "--log-level=warning"], where)
    for binary in (NODE_MODULES / "@tensorflow" / "tfjs-backend-wasm" / "dist").glob("*.wasm"):
        shutil.copy(binary, where)
    return where


@pytest.fixture(scope="module")
def cdn():
    """SqueezeNet published three times (1.0.0, 1.2.0, 2.0.0) to a CDN bucket on loopback."""
    with moto_server() as endpoint:
        bucket = f"cdn-{uuid.uuid4().hex[:8]}"
        make_cdn_bucket(endpoint, bucket)
        saved = {k: os.environ.get(k) for k in CREDENTIALS}
        os.environ.update(CREDENTIALS)
        try:
            for version in VERSIONS:
                publish(WEB_DEMO / "models", f"s3://{bucket}/webnets", version, endpoint_url=endpoint,
                        only=["squeezenet"], log=lambda *_: None)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        yield {"base": f"{endpoint}/{bucket}/webnets", "s3": s3_client(endpoint), "bucket": bucket}


@pytest.fixture(scope="module")
def browser():
    with chromium(*WEBGPU_FLAGS) as b:
        yield b


def index_files(cdn, version):
    s3 = cdn["s3"]
    index = json.loads(s3.get_object(Bucket=cdn["bucket"], Key="webnets/index.json")["Body"].read())
    entry = next(m for m in index["models"] if m["name"] == "squeezenet")
    return entry["versions"][version]["files"]


LOAD = """async ([source, options, input]) => {
  const events = [];
  try {
    const r = await window.app.load(source, {...options, onProgress: (e) => events.push(e)});
    const y = r.predict(window.app.tf.tensor(input.data, input.shape));
    const data = Array.from(await y.data());
    y.dispose();
    const top = await r.classify(window.app.tf.tensor(input.data, input.shape), {topK: 1});
    r.dispose();
    return {version: r.version, backend: r.backend, cache: r.cache, golden: r.golden, bytes: r.bytes,
            labels: r.labels && r.labels.length, top: top[0][0], data, events,
            cached: await window.app.cache.list()};
  } catch (error) {
    return {error: error.message, code: error.code, events, cached: await window.app.cache.list()};
  }
}"""


def golden():
    return json.loads((WEB_DEMO / "models" / "squeezenet" / "meta.json").read_text())["golden"]


def open_app(browser, app):
    with serve(app) as origin:
        context = browser.new_context()
        page = context.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{origin}/index.html")
        page.wait_for_function("window.app !== undefined", timeout=60_000)
        yield context, page, requests, origin
        context.close()


@pytest.fixture(scope="module")
def session(browser, app):
    yield from open_app(browser, app)


def test_the_tarball_holds_the_builds_and_the_types(tarball):
    with tarfile.open(tarball) as tar:
        names = {m.name: m.size for m in tar.getmembers()}
    for name in ("webnets.mjs", "webnets.js", "webnets.min.js", "webnets.d.ts", "webnets-layers.js",
                 "webnets-tokenizers.js"):
        assert f"package/dist/{name}" in names, sorted(names)
    assert not [n for n in names if "/src/" in n or n.endswith(".py")]  # the builds only
    # The minified classic build carries every webnets class, the tokenizers, the runner and the loader.
    assert names["package/dist/webnets.min.js"] < 400_000, names["package/dist/webnets.min.js"]


def test_an_app_loads_squeezenet_by_range_on_webgpu_checked_and_cached(session, cdn):
    _, page, requests, _ = session
    vectors = golden()
    page.evaluate("window.app.cache.clear()")
    got = page.evaluate(LOAD, ["squeezenet@1", {"base": cdn["base"]}, vectors["inputs"][0]])
    assert "error" not in got, got
    assert got["version"] == "1.2.0"  # the highest 1.x.y: 2.0.0 is outside the range
    assert got["backend"]["name"] == "webgpu", got["backend"]
    assert got["golden"]["relativeError"] <= got["golden"]["bound"]
    assert relative_error(got["data"], vectors["outputs"][0]["data"]) <= BROWSER_BOUND
    assert got["labels"] == 10 and got["top"]["score"] > 0
    assert got["cache"] == {"hit": False, "stored": True, "reason": None}
    # Progress: per file and in total, in order, ending at the published byte counts.
    files = {f: r["bytes"] for f, r in index_files(cdn, "1.2.0").items() if f not in ("model.js", "webnets-layers.js")}
    events = got["events"]
    assert [e["loaded"] for e in events] == sorted(e["loaded"] for e in events)
    assert events[-1]["loaded"] == events[-1]["total"] == sum(files.values()) == got["bytes"]
    assert {e["total"] for e in events} == {sum(files.values())}
    last = {}
    for e in events:
        assert e["fileLoaded"] >= last.get(e["file"], 0)
        last[e["file"]] = e["fileLoaded"]
    assert last == files
    assert [(c["name"], c["version"]) for c in got["cached"]] == [("squeezenet", "1.2.0")]


def test_a_reload_with_the_network_off_loads_from_the_cache(session, cdn):
    context, page, requests, _ = session
    vectors = golden()
    page.evaluate("window.app.cache.clear()")
    online = page.evaluate(LOAD, ["squeezenet@1", {"base": cdn["base"]}, vectors["inputs"][0]])
    page.reload()
    page.wait_for_function("window.app !== undefined", timeout=60_000)
    context.set_offline(True)
    try:
        requests.clear()
        offline = page.evaluate(LOAD, ["squeezenet@1", {"base": cdn["base"]}, vectors["inputs"][0]])
        uncached = page.evaluate(LOAD, ["squeezenet@2", {"base": cdn["base"]}, vectors["inputs"][0]])
    finally:
        context.set_offline(False)
    assert "error" not in offline, offline
    assert offline["version"] == "1.2.0" and offline["cache"]["hit"] is True
    assert offline["data"] == online["data"]
    assert all(e.get("cached") for e in offline["events"])
    assert uncached["code"] == "offline" and "no cached version of squeezenet matches '2'" in uncached["error"]


@pytest.mark.parametrize("source, version", [("squeezenet@1.0", "1.0.0"), ("squeezenet@^1.0.0", "1.2.0"),
                                             ("squeezenet@1.0.0", "1.0.0"), ("squeezenet@2", "2.0.0"),
                                             ("squeezenet", "2.0.0"), ("squeezenet@>=1.1 <2", "1.2.0")])
def test_a_version_range_resolves_to_the_highest_match_and_evicts_the_others(session, cdn, source, version):
    _, page, _, _ = session
    got = page.evaluate(LOAD, [source, {"base": cdn["base"], "verify": False}, golden()["inputs"][0]])
    assert got.get("version") == version, got.get("error")
    assert [(c["name"], c["version"]) for c in got["cached"]] == [("squeezenet", version)]


@pytest.mark.parametrize("source, code, words", [
    ("squeezenet@3", "no-version", "no published version of squeezenet matches '3' (published: 1.0.0, 1.2.0, 2.0.0)"),
    ("resnet@1", "unknown-model", "has no model called 'resnet' (it has: squeezenet)"),
    ("squeezenet@one", "bad-range", "'one' is not a version range"),
])
def test_what_cannot_be_resolved_is_refused_in_one_sentence(session, cdn, source, code, words):
    _, page, _, _ = session
    got = page.evaluate(LOAD, [source, {"base": cdn["base"]}, golden()["inputs"][0]])
    assert got["code"] == code and words in got["error"], got


def test_two_loads_at_once_share_one_download(session, cdn):
    _, page, requests, _ = session
    page.evaluate("window.app.cache.clear()")
    requests.clear()
    # The second load starts once the first has all of model.json: sharing must not end with a file's download.
    got = page.evaluate("""async (base) => {
      let startSecond;
      const firstHasModelJson = new Promise((resolve) => { startSecond = resolve; });
      const first = window.app.load('squeezenet@1', {base, onProgress: (e) => {
        if (e.file === 'model.json' && e.fileLoaded === e.fileTotal) startSecond();
      }});
      await firstHasModelJson;
      const [a, b] = await Promise.all([first, window.app.load('squeezenet@1', {base})]);
      const out = [a.version, b.version, a.model !== b.model];
      a.dispose(); b.dispose();
      return out;
    }""", cdn["base"])
    assert got == ["1.2.0", "1.2.0", True]
    fetched = [u for u in requests if "/squeezenet/1.2.0/" in u]
    assert sorted(u.rsplit("/", 1)[1] for u in fetched) == ["group1-shard1of1.bin", "meta.json", "model.json"]


def test_a_tampered_shard_is_refused_and_nothing_is_cached(session, cdn):
    _, page, _, _ = session
    s3, bucket, key = cdn["s3"], cdn["bucket"], KEY.format("2.0.0")
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=bytes([original[0] ^ 0xFF]) + original[1:], CacheControl=IMMUTABLE,
                  ContentType="application/octet-stream")
    try:
        page.evaluate("window.app.cache.clear()")
        got = page.evaluate(LOAD, ["squeezenet@2", {"base": cdn["base"]}, golden()["inputs"][0]])
    finally:
        s3.put_object(Bucket=bucket, Key=key, Body=original, CacheControl=IMMUTABLE,
                      ContentType="application/octet-stream")
    assert got["code"] == "integrity", got
    assert "squeezenet 2.0.0: group1-shard1of1.bin does not match its published integrity hash (sha384-" in got["error"]
    assert got["cached"] == []


def classic_site(site, tarball, vendored):
    """A plain page in `site`: the `vendored` TF.js scripts (web_demo/vendor), then the tarball's classic build."""
    site.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as tar:
        tar.extract("package/dist/webnets.min.js", site, filter="data")
    shutil.move(site / "package" / "dist" / "webnets.min.js", site / "webnets.min.js")
    shutil.rmtree(site / "package")
    for name in vendored:
        shutil.copy(WEB_DEMO / "vendor" / name, site)
    tags = "".join(f'<script src="{name}"></script>' for name in (*vendored, "webnets.min.js"))
    (site / "index.html").write_text(f"<!doctype html>{tags}")
    return site


def test_the_classic_build_loads_a_model_json_url_from_a_plain_page(browser, tarball, tmp_path):
    """<script src=tf.min.js> + <script src=webnets.min.js>, no bundler: the global `webnets` loads an export by
    its model.json URL (no CDN index, no WebGPU script: the result says why WebGPU was skipped)."""
    site = classic_site(tmp_path / "site", tarball, ["tf.min.js"])
    shutil.copytree(WEB_DEMO / "models" / "squeezenet", site / "squeezenet")
    vectors = golden()
    with serve(site) as origin:
        page = browser.new_page()
        try:
            page.goto(f"{origin}/index.html")
            got = page.evaluate("""async (input) => {
              const r = await webnets.load('squeezenet/model.json');
              const y = r.predict(tf.tensor(input.data, input.shape));
              return {data: Array.from(await y.data()), backend: r.backend, version: r.version, golden: r.golden,
                      classes: webnets.classes};
            }""", vectors["inputs"][0])
        finally:
            page.close()
    assert relative_error(got["data"], vectors["outputs"][0]["data"]) <= BROWSER_BOUND
    assert got["backend"]["name"] == "webgl"
    assert got["backend"]["skipped"][0]["backend"] == "webgpu"
    assert "not included in this page (load tf-backend-webgpu.min.js" in got["backend"]["skipped"][0]["reason"]
    assert got["version"] == "unversioned" and got["golden"]["relativeError"] <= got["golden"]["bound"]
    assert {"WebnetsMultiHeadAttention", "WebnetsLSTM", "WebnetsTokenizer"} <= set(got["classes"])


def test_the_type_declarations_check_an_application(app):
    run([str(NODE_MODULES / ".bin" / "tsc"), "--noEmit", "--strict", "--module", "esnext", "--moduleResolution",
         "bundler", "--target", "es2022", "--lib", "es2022,dom", "--skipLibCheck", "app.ts"], app)


def test_the_docs_example_runs_as_written(session, cdn):
    """docs/javascript.md's first example, with the CDN base swapped for the loopback one: its imports are the
    application's own (the bundle already imports webnets and the WebGPU backend)."""
    _, page, _, _ = session
    text = (ROOT / "docs" / "javascript.md").read_text()
    code = text.split("## Loading a model: `webnets.load`", 1)[1].split("```js\n", 1)[1].split("```", 1)[0]
    body = "\n".join(line for line in code.splitlines() if not line.startswith("import "))
    body = body.replace("https://cdn.example.com/webnets", cdn["base"])
    got = page.evaluate("async (body) => { const logged = []; const console = {log: (...a) => logged.push(a)};"
                        " const webnets = window.app.webnets;"
                        " await (new Function('webnets', 'console', `return (async () => {${body}})()`))(webnets, console);"
                        " return JSON.parse(JSON.stringify(logged)); }", body)
    version, backend, cache, top = got[-1]
    assert version == "1.2.0" and backend["name"] == "webgpu" and cache["reason"] is None
    assert len(top[0]) == 3 and top[0][0]["score"] >= top[0][1]["score"] >= top[0][2]["score"]


WASM = """async ([base, input]) => {
  const {tf, webnets} = window.app;
  const r = await webnets.load('squeezenet@1', {base, backend: 'wasm'});
  const y = r.predict(tf.tensor(input.data, input.shape));
  const data = Array.from(await y.data());
  tf.dispose(y);
  // Attention's two products, batched and transposed: TF.js's scalar loop before, webnets' GEMM now.
  const before = webnets.kernels.stats.BatchMatMul.webnets;
  const q = tf.randomNormal([4, 33, 16], 0, 1, 'float32', 1), k = tf.randomNormal([4, 33, 16], 0, 1, 'float32', 2);
  const scores = tf.matMul(q, k, false, true);
  const got = Array.from(await scores.data());
  const [qs, ks] = [await q.array(), await k.array()];
  let worst = 0, scale = 0;
  for (let b = 0; b < 4; b++) for (let i = 0; i < 33; i++) for (let j = 0; j < 33; j++) {
    let dot = 0;
    for (let d = 0; d < 16; d++) dot += qs[b][i][d] * ks[b][j][d];
    worst = Math.max(worst, Math.abs(dot - got[(b * 33 + i) * 33 + j]));
    scale = Math.max(scale, Math.abs(dot));
  }
  tf.dispose([q, k, scores]);
  r.dispose();
  return {data, backend: r.backend, isolated: self.crossOriginIsolated, threads: window.app.wasm.getThreadsCount(),
          ran: webnets.kernels.stats.BatchMatMul.webnets - before, error: worst / scale};
}"""


@pytest.mark.parametrize("isolated", [False, True], ids=["one-thread", "cross-origin-isolated"])
def test_on_wasm_the_package_runs_webnets_kernels(browser, app, cdn, isolated):
    """On the wasm backend the package registers webnets' WebAssembly kernels (js/wasm/): SqueezeNet still
    matches Keras, and a batched Q·Kᵀ runs webnets' GEMM, in a plain page and in a cross-origin isolated one
    (TF.js's threaded build, whose shared memory needs the threaded binary)."""
    vectors = golden()
    server = serving({"/": app}) if isolated else serve(app)
    with server as origin:
        page = browser.new_page()
        try:
            page.goto(f"{origin}/index.html")
            page.wait_for_function("window.app !== undefined", timeout=60_000)
            got = page.evaluate(WASM, [cdn["base"], vectors["inputs"][0]])
        finally:
            page.close()
    assert got["isolated"] is isolated
    assert got["backend"]["name"] == "wasm" and got["backend"]["kernels"] == "webnets", got["backend"]
    assert relative_error(got["data"], vectors["outputs"][0]["data"]) <= BROWSER_BOUND
    assert got["ran"] >= 1 and got["error"] <= 1e-5, got


def test_an_attention_model_predicts_again_and_again_on_webgpu(browser, tarball, tmp_path):
    """MultiHeadAttention prepares its projections once per weight version. A synchronous read-back for that
    (dataSync) broke every later asynchronous read on WebGPU (SwiftShader: "A valid external Instance reference
    no longer exists"); on GPU backends the copies are made on the GPU now."""
    import keras

    from exporter import convert

    inputs = keras.Input((32, 256))
    outputs = keras.layers.GlobalAveragePooling1D()(keras.layers.MultiHeadAttention(4, 64)(inputs, inputs))
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "mha.keras")
    site = tmp_path / "site"
    convert(tmp_path / "mha.keras", site / "mha", log=lambda *_: None)
    classic_site(site, tarball, ["tf.min.js", "tf-backend-webgpu.min.js"])
    x = np.random.default_rng(0).normal(size=(2, 32, 256)).astype("float32")
    want = model.predict(x, verbose=0)
    with serve(site) as origin:
        page = browser.new_page()
        try:
            page.goto(f"{origin}/index.html")
            got = page.evaluate("""async (x) => {
              const r = await webnets.load('mha/model.json', {backend: 'webgpu'});
              const runs = [];
              for (let i = 0; i < 3; i++) {
                const y = r.predict(tf.tensor(x));
                runs.push(Array.from(await y.data()));
                y.dispose();
              }
              return {backend: r.backend.name, golden: r.golden, runs};
            }""", x.tolist())
        finally:
            page.close()
    assert got["backend"] == "webgpu" and got["golden"]["relativeError"] <= got["golden"]["bound"]
    for run in got["runs"]:
        assert relative_error(run, want.ravel().tolist()) <= BROWSER_BOUND
