"""The documentation: the site builds with `mkdocs build --strict` (a broken link or anchor fails it),
the README's links land on pages and anchors that exist, its generated parts match what generates
them, and the code blocks of the README and of every page run.

Code blocks (docs/development.md states the convention for authors):
- ```python: a complete program, run in a fresh Python process in an empty directory;
- ```python after a `<!-- fragment ... -->` line: only compiled (it needs files or names it lacks);
- ```js / ```javascript: parsed with `node --check` as an ES module (top-level await allowed). The
  README's JavaScript example also runs in Node, on the model its Python example wrote, and must
  predict what Keras printed.
- shell, HTML and TOML blocks are not run.
"""

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from .generated_docs import (DOCS, OPTIONS, OPTIONS_PAGE, README, SUMMARY, between, convert_options,
                             readme_summary)

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [README, *sorted(DOCS.glob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
FRAGMENT = re.compile(r"<!--\s*fragment\b[^>]*-->\s*$")
# mkdocs-material 9.7+ prints a banner about MkDocs 2.0 on every build unless told not to.
MKDOCS_ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def code_blocks(path):
    """[(language, code, line, fragment)] of the top-level fenced blocks of a markdown file."""
    text = path.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        line = text.count("\n", 0, match.start()) + 1
        blocks.append((match.group(1).lower(), match.group(2), line, bool(FRAGMENT.search(before))))
    return blocks


def _blocks(languages):
    return [pytest.param(path, code, fragment, id=f"{path.relative_to(ROOT)}:{line}")
            for path in DOC_FILES for language, code, line, fragment in code_blocks(path) if language in languages]


PYTHON_BLOCKS = _blocks({"python", "py"})
JS_BLOCKS = _blocks({"js", "javascript"})


def build_site(config, site_dir):
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site_dir)],
                          capture_output=True, text=True, env=MKDOCS_ENV, timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site_dir = tmp_path_factory.mktemp("site")
    result = build_site(ROOT / "mkdocs.yml", site_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    return site_dir


def test_the_site_builds_strictly_with_every_page_in_the_nav(site):
    built = {p.parent.relative_to(site).as_posix() for p in site.rglob("index.html")}
    pages = {"." if p.stem == "index" else p.stem for p in DOCS.glob("*.md")}
    assert pages <= built, f"pages missing from the built site: {sorted(pages - built)}"


def test_a_broken_link_or_anchor_fails_the_build(tmp_path):
    """What makes the strict build worth running: mkdocs.yml's validation turns both into errors."""
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    for broken, expected in (("[x](no-such-page.md)", "no-such-page.md"),
                             ("[x](layers.md#no-such-anchor)", "no-such-anchor")):
        page = tmp_path / "docs" / "limits.md"
        page.write_text((DOCS / "limits.md").read_text() + f"\n{broken}\n")
        result = build_site(tmp_path / "mkdocs.yml", tmp_path / "site")
        assert result.returncode != 0 and expected in result.stdout + result.stderr, (broken, result.stderr)


def _anchors(html):
    return set(re.findall(r'\bid="([^"]+)"', html))


def test_readme_links_reach_existing_pages_and_anchors(site):
    links = re.findall(r"\]\(([^)\s]+)\)", README.read_text())
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert len(local) >= 15, local  # the README is mostly a map of the docs
    for link in local:
        target, _, anchor = link.partition("#")
        path = (ROOT / target).resolve()
        assert path.exists(), f"README links to {target}, which does not exist"
        if anchor:
            assert path.is_relative_to(DOCS) and path.suffix == ".md", link
            html = site / ("" if path.stem == "index" else path.stem) / "index.html"
            assert anchor in _anchors(html.read_text()), f"README links to {link}: no such anchor in the page"


def test_readme_summary_is_generated_from_the_pages():
    assert between(README.read_text(), SUMMARY).strip() == readme_summary().strip(), (
        "README's coverage summary is stale: regenerate it with `make docs` (or `python -m tests.generated_docs`)")
    # What the summary claims, from the pages it is built of: every keras.applications model converts.
    row = next(line for line in readme_summary().splitlines() if line.startswith("| keras.applications"))
    converted, total = map(int, re.search(r"(\d+) of (\d+)", row).groups())
    assert converted == total >= 38


def test_convert_options_table_matches_the_parser():
    table = between(OPTIONS_PAGE.read_text(), OPTIONS)
    assert table is not None and table.strip() == convert_options().strip(), (
        "docs/converting.md's options are stale: regenerate them with `make docs`")
    for option in ("--quantize", "--step", "--import", "--max-params", "--format"):
        assert f"`{option}" in table


def test_the_snippets_were_found():
    assert len(PYTHON_BLOCKS) >= 4 and len(JS_BLOCKS) >= 5
    assert sum(not p.values[2] for p in PYTHON_BLOCKS) >= 2  # at least two run, the README's example among them


@pytest.mark.parametrize("path, code, fragment", PYTHON_BLOCKS)
def test_python_block(path, code, fragment, tmp_path):
    compile(code, f"{path.name} block", "exec")
    if fragment or path == README:
        return  # the README's example runs below, together with its JavaScript half
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, f"{path.name}: the block failed:\n{result.stderr[-3000:]}"


@pytest.mark.parametrize("path, code, fragment", JS_BLOCKS)
def test_js_block_parses(path, code, fragment, tmp_path):
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    script = tmp_path / "block.mjs"  # an ES module: top-level await parses
    script.write_text(code)
    result = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{path.name}: node --check failed:\n{result.stderr}"


def _readme_example(language):
    (code,) = [code for lang, code, _, fragment in code_blocks(README) if lang == language and not fragment]
    return code


def _numbers(text):
    return [float(x) for x in re.findall(r"[-+]?\d*\.\d+(?:[eE][-+]?\d+)?|[-+]?\d+[eE][-+]?\d+", text)]


@pytest.fixture
def served(tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_readme_example_converts_then_predicts_in_tfjs_what_keras_predicts(served):
    """The README's Python example, as written, in an empty directory; then its JavaScript example in
    Node (TF.js from this repository's node_modules, the export's webnets-layers.js registered on the
    global tf as a page's <script> tag does), loading the model over http."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    cwd, base = served
    python = subprocess.run([sys.executable, "-c", _readme_example("python")], cwd=cwd, capture_output=True,
                            text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert python.returncode == 0, python.stderr[-3000:]
    *_, parity, keras_scores = python.stdout.strip().splitlines()  # the example's two prints
    assert _numbers(parity)[0] <= 1e-4 and parity.endswith("['webnets-layers.js']"), python.stdout
    expected = _numbers(keras_scores)
    assert len(expected) == 3 and abs(sum(expected) - 1) < 1e-5, keras_scores  # a softmax over 3 classes
    assert sorted(p.name for p in (cwd / "tiny").iterdir()) == [
        "group1-shard1of1.bin", "meta.json", "model.json", "webnets-layers.js"]

    js = _readme_example("js")
    assert "'tiny/model.json'" in js and "scores" in js, js
    driver = cwd / "readme_example.mjs"
    driver.write_text(
        "import {createRequire} from 'node:module';\n"
        f"const require = createRequire({json.dumps(str(ROOT / 'package.json'))});\n"
        "globalThis.tf = require('@tensorflow/tfjs');\n"
        f"require({json.dumps(str(cwd / 'tiny' / 'webnets-layers.js'))});  // registers on globalThis.tf\n"
        + js.replace("'tiny/model.json'", json.dumps(f"{base}/tiny/model.json"))
        + "\nprocess.stdout.write('\\nSCORES ' + JSON.stringify(Array.from(await scores.data())) + '\\n');\n")
    node = subprocess.run(["node", str(driver)], capture_output=True, text=True, timeout=120)
    assert node.returncode == 0, node.stderr[-3000:]
    got = json.loads(node.stdout.split("\nSCORES ", 1)[1])
    assert len(got) == 3
    # Keras printed 8 significant digits: 1e-4 of the largest score is well above that rounding.
    assert max(abs(g - e) for g, e in zip(got, expected)) <= 1e-4 * max(map(abs, expected)), (got, expected)
