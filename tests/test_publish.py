"""`publish` against a real S3-compatible server on loopback (moto's standalone
server): every rule of the CDN layout is shown on the exported zoo in
web_demo/models — hashes, headers, write order, immutability, no-op re-runs,
an upload cut half-way and completed by a re-run, a concurrent index writer —
and the published models are loaded over HTTP by TF.js in Node and, cross-origin
with SRI, in headless Chromium."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from exporter.browser.chromium import CHROMIUM_FLAGS, ROOT, WEB_DEMO, chromium_path, ensure_vendor
from exporter.errors import ExportError
from exporter.parity.tolerances import BROWSER_BOUND, FLOAT32_BOUND, max_relative_error, relative_error
from exporter.publish import publish
from exporter.publish.object_store import IMMUTABLE, SHORT_LIVED, S3Store, open_store
from tests.browser import Page, serve
from tests.s3_server import CREDENTIALS, S3Proxy, make_cdn_bucket, moto_server, object_versions

MODELS = WEB_DEMO / "models"
NAMES = [m["name"] for m in json.loads((MODELS / "index.json").read_text())["models"]]
CONTENT_TYPES = {".json": "application/json", ".bin": "application/octet-stream", ".js": "text/javascript"}


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture
def env(monkeypatch, endpoint):
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    return endpoint


@pytest.fixture
def bucket(env):
    name = f"cdn-{uuid.uuid4().hex[:10]}"
    return name, make_cdn_bucket(env, name)


@pytest.fixture(scope="module")
def published(endpoint):
    """The whole zoo published once, with `make publish`, as version 1.0.0."""
    bucket = f"zoo-{uuid.uuid4().hex[:8]}"
    make_cdn_bucket(endpoint, bucket)
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
    proc = subprocess.run(["make", "--no-print-directory", "publish", f"DEST=s3://{bucket}/webnets", "VERSION=1.0.0"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return f"{endpoint}/{bucket}/webnets", proc.stdout


def http_get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), response.headers


def quiet(*_):
    pass


def test_make_publish_uploads_every_model_with_hashes_and_headers(published):
    base, stdout = published
    assert "every file read back and its sha256 checked" in stdout
    index_bytes, headers = http_get(f"{base}/index.json")
    assert headers["Cache-Control"] == SHORT_LIVED
    assert headers["Content-Type"] == "application/json"
    index = json.loads(index_bytes)
    assert [m["name"] for m in index["models"]] == sorted(NAMES)
    assert {"alexnet", "googlenet", "resnet", "squeezenet", "simple_rnn", "lstm", "gru", "dqn"} <= set(NAMES)
    checked = 0
    for model in index["models"]:
        local_meta = json.loads((MODELS / model["name"] / "meta.json").read_text())
        assert model["latest"] == "1.0.0" and model["model"] == f"{model['name']}/1.0.0/model.json"
        version = model["versions"]["1.0.0"]
        assert version["quantization"] == local_meta["quantization"] == "uint8"
        assert version["inputs"] == local_meta["inputs"]
        assert version.get("labels") == local_meta.get("labels")
        local_model = json.loads((MODELS / model["name"] / "model.json").read_text())
        shards = {p for g in local_model["weightsManifest"] for p in g["paths"]}
        # webnets-layers.js travels with exactly the models whose meta.json requires it (the language models).
        required = {r["file"] for r in local_meta.get("requires", [])}
        assert set(version["files"]) == shards | {"model.json", "meta.json", "model.js"} | required
        for name, record in version["files"].items():
            data, headers = http_get(f"{base}/{model['name']}/1.0.0/{name}")
            assert data == (MODELS / model["name"] / name).read_bytes()
            assert len(data) == record["bytes"]
            assert hashlib.sha256(data).hexdigest() == record["sha256"]
            assert record["integrity"] == "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
            assert headers["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
            assert headers["Content-Type"].startswith(CONTENT_TYPES[Path(name).suffix])
            checked += 1
    assert checked >= 4 * len(NAMES)


def test_published_models_run_in_tfjs_over_http(published):
    """TF.js (Node) loads each published version by URL and reproduces its golden outputs."""
    from exporter.parity.compare import golden_arrays
    from exporter.parity.runtime import Job, run_jobs

    base, _ = published
    jobs, expected = [], {}
    for name in NAMES:
        meta = json.loads(http_get(f"{base}/{name}/1.0.0/meta.json")[0])
        inputs, outputs = golden_arrays(meta["golden"])
        url = f"{base}/{name}/1.0.0"
        # The published webnets-layers.js, by URL, where the model needs it (as `verify URL` does).
        runtime = next((f"{url}/{r['file']}" for r in meta.get("requires", [])), None)
        jobs.append(Job(name, url, inputs, "layers", runtime=runtime))
        expected[name] = outputs
    run_jobs(jobs)
    for job in jobs:
        assert job.error is None, f"{job.id}: {job.error}"
        assert max_relative_error(job.outputs, expected[job.id]) <= FLOAT32_BOUND, job.id


def test_verify_command_accepts_a_published_url(published):
    base, _ = published
    proc = subprocess.run([sys.executable, "-m", "exporter", "verify", f"{base}/squeezenet/1.0.0"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "-> OK" in proc.stdout


def test_writes_go_shards_first_then_entry_points_then_index(env, bucket):
    name, s3 = bucket
    proxy = S3Proxy(env)
    publish(MODELS, f"s3://{name}/p", "1.0.0", endpoint_url=proxy.endpoint, log=quiet)
    proxy.close()
    keys = [path.split("?")[0].split(f"/{name}/p/", 1)[1] for path in proxy.puts()]
    assert keys[-1] == "index.json" and keys.count("index.json") == 1
    # every shard and webnets-layers.js before any model.json / meta.json / model.js
    phase = [0 if k.endswith((".bin", "/webnets-layers.js")) else 1 for k in keys[:-1]]
    assert phase == sorted(phase), keys
    assert len(keys) - 1 == sum(len(list((MODELS / n).iterdir())) for n in NAMES)


def test_republishing_the_same_bytes_uploads_nothing(env, bucket, capsys):
    name, s3 = bucket
    publish(MODELS, f"s3://{name}/p", "1.0.0", log=quiet)
    before = object_versions(s3, name)
    plan, _ = publish(MODELS, f"s3://{name}/p", "1.0.0", log=print)
    assert plan.count("upload") == 0 and plan.count("same") == len(plan.files)
    assert object_versions(s3, name) == before  # not one PUT: versioning would show it
    assert "index.json already lists 1.0.0" in capsys.readouterr().out


def test_changed_bytes_under_a_published_version_are_refused(env, bucket, tmp_path):
    name, s3 = bucket
    publish(MODELS, f"s3://{name}/p", "1.0.0", only=["squeezenet"], log=quiet)
    before = object_versions(s3, name)
    tampered = tmp_path / "models"
    shutil.copytree(MODELS, tampered)
    shard = tampered / "squeezenet" / "group1-shard1of1.bin"
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(ExportError) as error:
        publish(tampered, f"s3://{name}/p", "1.0.0", only=["squeezenet"], log=quiet)
    message = str(error.value)
    assert "immutable" in message and "squeezenet/1.0.0/group1-shard1of1.bin" in message
    assert "--version 1.0.1" in message
    assert object_versions(s3, name) == before
    # ... while a new version of the same model goes through, and becomes latest.
    _, index = publish(tampered, f"s3://{name}/p", "1.0.1", only=["squeezenet"], log=quiet)
    assert index["models"][0]["latest"] == "1.0.1" and set(index["models"][0]["versions"]) == {"1.0.0", "1.0.1"}


def test_upload_cut_half_way_keeps_the_old_index_and_a_rerun_completes(env, bucket):
    name, s3 = bucket
    publish(MODELS, f"s3://{name}/p", "1.0.0", log=quiet)
    old_index = s3.get_object(Bucket=name, Key="p/index.json")["Body"].read()
    proxy = S3Proxy(env, cut_after_puts=7)
    with pytest.raises(ExportError) as error:
        publish(MODELS, f"s3://{name}/p", "1.1.0", endpoint_url=proxy.endpoint, log=quiet)
    assert "previous index.json is still the one in force" in str(error.value)
    assert "run the same command again" in str(error.value)
    assert s3.get_object(Bucket=name, Key="p/index.json")["Body"].read() == old_index
    present = {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name, Prefix="p/")
               for o in page.get("Contents", [])}
    partial = {k for k in present if "/1.1.0/" in k}
    assert 0 < len(partial) < 4 * len(NAMES)
    for key in partial:  # no model.json is there without all of its shards
        if key.endswith("model.json"):
            manifest = json.loads(s3.get_object(Bucket=name, Key=key)["Body"].read())["weightsManifest"]
            assert {key.rsplit("/", 1)[0] + "/" + p for g in manifest for p in g["paths"]} <= present
    plan, index = publish(MODELS, f"s3://{name}/p", "1.1.0", log=quiet)
    assert plan.count("same") == len(partial) and plan.count("upload") == len(plan.files) - len(partial)
    assert all(m["latest"] == "1.1.0" and set(m["versions"]) == {"1.0.0", "1.1.0"} for m in index["models"])


def test_a_concurrent_index_update_is_merged_not_lost(env, bucket):
    """Another publisher writes index.json between our read and our write: the
    conditional write (S3 If-Match) fails, and the merge is redone on its index."""
    name, s3 = bucket
    publish(MODELS, f"s3://{name}/p", "1.0.0", only=["dqn"], log=quiet)
    import exporter.publish.release as publishing

    real_open = publishing.open_store
    raced = []

    def open_with_a_rival(url, endpoint_url=None):
        store = real_open(url, endpoint_url)
        original = store.read_versioned

        def read_versioned(rel):
            result = original(rel)
            if rel == "index.json" and not raced:
                raced.append(True)  # the rival publishes squeezenet 2.0.0 right now
                publish(MODELS, url, "2.0.0", only=["squeezenet"], log=quiet)
            return result

        store.read_versioned = read_versioned
        return store

    publishing.open_store = open_with_a_rival
    try:
        _, index = publish(MODELS, f"s3://{name}/p", "1.1.0", only=["dqn"], log=quiet)
    finally:
        publishing.open_store = real_open
    assert raced
    versions = {m["name"]: set(m["versions"]) for m in index["models"]}
    assert versions == {"dqn": {"1.0.0", "1.1.0"}, "squeezenet": {"2.0.0"}}
    remote = json.loads(s3.get_object(Bucket=name, Key="p/index.json")["Body"].read())
    assert {m["name"]: set(m["versions"]) for m in remote["models"]} == versions


def test_dry_run_prints_the_plan_and_uploads_nothing(env, bucket):
    name, s3 = bucket
    publish(MODELS, f"s3://{name}/p", "1.0.0", only=["dqn"], log=quiet)
    before = object_versions(s3, name)
    proc = subprocess.run([sys.executable, "-m", "exporter", "publish", str(MODELS), f"s3://{name}/p", "--version",
                           "1.0.0", "--dry-run", "--model", "dqn", "--model", "squeezenet"],
                          capture_output=True, text=True, cwd=ROOT, env=os.environ, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.split()[:2] == ["same", "dqn/1.0.0/model.json"] for line in lines)
    assert any(line.split()[:2] == ["upload", "squeezenet/1.0.0/group1-shard1of1.bin"] for line in lines)
    assert "dry run: nothing was uploaded" in proc.stdout
    assert object_versions(s3, name) == before
    for secret in (CREDENTIALS["AWS_SECRET_ACCESS_KEY"], CREDENTIALS["AWS_ACCESS_KEY_ID"]):
        assert secret not in proc.stdout + proc.stderr


def test_unreachable_endpoint_is_one_paragraph_without_secrets(env, tmp_path):
    from tests.s3_server import free_port

    proc = subprocess.run([sys.executable, "-m", "exporter", "publish", str(MODELS), "s3://cdn/p", "--version", "1.0.0",
                           "--endpoint-url", f"http://127.0.0.1:{free_port()}"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "AWS_MAX_ATTEMPTS": "1"})
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: Could not list") and "Traceback" not in proc.stderr
    assert "--endpoint-url" in proc.stderr
    for secret in CREDENTIALS.values():
        if "secret" in secret or "key" in secret:
            assert secret not in proc.stderr


def test_a_missing_bucket_is_named(env):
    with pytest.raises(ExportError, match="the bucket or directory does not exist"):
        publish(MODELS, f"s3://no-such-bucket-{uuid.uuid4().hex[:6]}/p", "1.0.0", only=["dqn"], log=quiet)


def test_missing_credentials_say_where_they_come_from(env, monkeypatch, tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(ExportError, match="No credentials were found.*never takes them as arguments"):
        publish(MODELS, "s3://cdn/p", "1.0.0", log=quiet)


@pytest.mark.parametrize("url, version, problem", [
    ("s3://cdn/p", "1.0", "not a semantic version"),
    ("s3://cdn/p", "v1.0.0", "not a semantic version"),
    ("s3://KEY:SECRET@cdn/p", "1.0.0", "contains credentials"),
    ("ftp://host/p", "1.0.0", "is not a publishing destination"),
    ("s3://", "1.0.0", "names no bucket"),
])
def test_bad_destinations_and_versions(url, version, problem):
    with pytest.raises(ExportError, match=problem):
        publish(MODELS, url, version, log=quiet)


def test_unverified_or_incomplete_exports_are_not_published(tmp_path):
    src = tmp_path / "models"
    shutil.copytree(MODELS, src, ignore=shutil.ignore_patterns("model.js"))
    (src / "dqn" / "group1-shard1of1.bin").unlink()
    with pytest.raises(ExportError, match="names group1-shard1of1.bin, which is missing"):
        publish(src, (tmp_path / "cdn").as_uri(), "1.0.0", only=["dqn"], log=quiet)
    meta = json.loads((src / "squeezenet" / "meta.json").read_text())
    del meta["golden"]
    (src / "squeezenet" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ExportError, match="without the TF.js parity check"):
        publish(src, (tmp_path / "cdn").as_uri(), "1.0.0", only=["squeezenet"], log=quiet)
    with pytest.raises(ExportError, match="has no index.json"):
        publish(tmp_path, (tmp_path / "cdn").as_uri(), "1.0.0", log=quiet)


def test_a_directory_destination_gets_the_same_layout(tmp_path):
    dest = tmp_path / "cdn"
    notes = []
    _, index = publish(MODELS, dest.as_uri(), "1.0.0", only=["squeezenet", "dqn"], log=notes.append)
    assert any("Cache-Control" in n for n in notes)  # a directory cannot carry headers: say who must
    on_disk = json.loads((dest / "index.json").read_text())
    assert on_disk == index
    for model in on_disk["models"]:
        for name, record in model["versions"]["1.0.0"]["files"].items():
            data = (dest / model["name"] / "1.0.0" / name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == record["sha256"]
    plan, _ = publish(MODELS, dest.as_uri(), "1.0.0", only=["squeezenet", "dqn"], log=quiet)
    assert plan.count("upload") == 0
    assert not list(dest.rglob(".*tmp-*"))


def test_an_index_we_did_not_write_is_not_overwritten(tmp_path):
    dest = tmp_path / "cdn"
    dest.mkdir()
    (dest / "index.json").write_text('{"something": "else"}')
    with pytest.raises(ExportError, match="not a webnets CDN index"):
        publish(MODELS, dest.as_uri(), "1.0.0", only=["dqn"], log=quiet)
    assert (dest / "index.json").read_text() == '{"something": "else"}'


def test_open_store_picks_the_adapter_and_endpoint(env):
    store = open_store("s3://bucket/prefix", endpoint_url="http://127.0.0.1:1")
    assert isinstance(store, S3Store) and store.root == "bucket/prefix"


# --- the browser: the demo loading published models cross-origin, with SRI ---

# Runs a code block that defines `model`, then predicts one golden input with it.
RUN_SNIPPET = """async ([code, x]) => {
  const run = new Function('tf', `return (async () => { ${code}; return model; })()`);
  const model = await run(window.tf);
  return Array.from(await model.predict(tf.tensor(x.data, x.shape)).data());
}"""


def readme_sri_snippet():
    readme = (ROOT / "docs" / "publishing.md").read_text()  # the docs page that holds the snippet
    blocks = [b.split("```", 1)[0] for b in readme.split("```js\n")[1:]]
    return next(b for b in blocks if "integrity" in b)


@pytest.fixture(scope="module")
def chromium():
    if chromium_path() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    ensure_vendor()
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


def test_demo_loads_published_models_cross_origin_with_sri(published, chromium, endpoint):
    base, _ = published
    with serve(WEB_DEMO) as page_origin:  # a different origin than the S3 server: CORS is exercised
        page = Page(chromium, f"{page_origin}/index.html?cdn={base}&autoplay=0")
        try:
            assert {n: s["state"] for n, s in page.models.items()} == {n: "ready" for n in NAMES}
            assert all(s["backend"] == "webgl" for s in page.models.values())
            for name in ("squeezenet", "lstm", "dqn"):
                vectors = json.loads(http_get(f"{base}/{name}/1.0.0/meta.json")[0])["golden"]
                outputs = page.predict(name, vectors["inputs"][0])
                assert relative_error(outputs[0]["data"], vectors["outputs"][0]["data"]) <= BROWSER_BOUND, name
            assert page.errors() == []
            # The docs' snippet for loading a pinned version with SRI (docs/publishing.md), run as written.
            snippet = readme_sri_snippet().replace("https://cdn.example.com/webnets", base).replace("1.4.0", "1.0.0")
            vectors = json.loads(http_get(f"{base}/squeezenet/1.0.0/meta.json")[0])["golden"]
            got = page.page.evaluate(RUN_SNIPPET, [snippet, vectors["inputs"][0]])
            assert relative_error(got, vectors["outputs"][0]["data"]) <= BROWSER_BOUND
        finally:
            page.close()

        # Someone rewrites a published shard behind the CDN's back: the browser's
        # SRI check refuses it, that card says so, the others keep working.
        from tests.s3_server import s3_client

        bucket = base.split("/")[3]
        s3 = s3_client(endpoint)
        key = "webnets/squeezenet/1.0.0/group1-shard1of1.bin"
        original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.put_object(Bucket=bucket, Key=key, Body=bytes([original[0] ^ 0xFF]) + original[1:],
                      CacheControl=IMMUTABLE, ContentType="application/octet-stream")
        page = Page(chromium, f"{page_origin}/index.html?cdn={base}&autoplay=0")
        try:
            states = {n: s["state"] for n, s in page.models.items()}
            assert states.pop("squeezenet") == "error"
            assert set(states.values()) == {"ready"}
            card = page.page.inner_text('[data-model="squeezenet"]')
            assert "group1-shard1of1.bin of version 1.0.0 does not match its published integrity hash" in card, card
        finally:
            page.close()
            s3.put_object(Bucket=bucket, Key=key, Body=original, CacheControl=IMMUTABLE,
                          ContentType="application/octet-stream")


def test_latest_is_the_highest_release_never_a_pre_release():
    from exporter.publish.cdn_index import latest

    assert latest(["1.0.0", "1.10.0", "1.9.3"]) == "1.10.0"  # numeric, not string, order
    assert latest(["1.0.0", "2.0.0-rc.1"]) == "1.0.0"
    assert latest(["2.0.0-rc.2", "2.0.0-rc.10", "2.0.0-beta"]) == "2.0.0-rc.10"
    assert latest(["0.9.0", "1.0.0-rc.1", "1.0.0"]) == "1.0.0"
