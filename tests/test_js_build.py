"""js/build.mjs: the two classic scripts that travel with exports (exporter/runtime/webnets-layers.js and
webnets-tokenizers.js) are built from the ES modules in js/src/ by esbuild, and nothing about them changed
for the code that loads them.

- the committed scripts are exactly what `node js/build.mjs --check` builds from js/src (and a stale one is
  named, with the fix);
- in Node they register the same class names and export the same API as the scripts committed at HEAD
  (read with `git show`, so before this build existed: the hand-written files);
- in a fresh Node vm context with a real TF.js as the global `tf` (a page's situation), they register on it
  and define no global but webnetsLayers, webnetsTokenizers and webnets (the tokenizer hook, created or
  completed).

All Node work runs in one process.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from exporter.runtime import RUNTIME_FILE
from exporter.text import TOKENIZERS_FILE

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD = REPO_ROOT / "js" / "build.mjs"
SCRIPTS = {"layers": RUNTIME_FILE, "tokenizers": TOKENIZERS_FILE}


def node(script, cwd=REPO_ROOT):
    proc = subprocess.run(["node", "--input-type=commonjs", "-"], input=script, cwd=cwd, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_committed_scripts_are_the_build_of_js_src():
    proc = subprocess.run(["node", str(BUILD), "--check"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_check_names_a_stale_script_and_the_fix(tmp_path):
    """A copy of the build's inputs with one script edited by hand: --check exits 1 naming it (and only it)."""
    for part in ("js/build.mjs", "js/src", "package.json", "exporter/runtime/webnets-layers.js",
                 "exporter/runtime/webnets-tokenizers.js"):
        source, target = REPO_ROOT / part, tmp_path / part
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    os.symlink(REPO_ROOT / "node_modules", tmp_path / "node_modules")
    edited = tmp_path / "exporter/runtime/webnets-tokenizers.js"
    edited.write_text(edited.read_text() + "// a hand edit\n")
    proc = subprocess.run(["node", str(tmp_path / "js/build.mjs"), "--check"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert "exporter/runtime/webnets-tokenizers.js differs" in proc.stderr and "make js" in proc.stderr
    assert "webnets-layers.js" not in proc.stderr.replace("webnets-tokenizers.js", "")


def _head(path):
    """The file as committed at HEAD, or None without a git checkout."""
    rel = path.relative_to(REPO_ROOT).as_posix()
    proc = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=REPO_ROOT, capture_output=True, text=True)
    return proc.stdout if proc.returncode == 0 else None


# The API of a script loaded with require(), and the class names its register(tf) returns.
_DESCRIBE = """
const describe = (file) => {
  const api = require(file);
  const kinds = Object.fromEntries(Object.keys(api).sort().map((k) => [k, typeof api[k] === 'function' ? 'function'
    : JSON.stringify(api[k])]));
  return {kinds, classes: api.register(tf)};
};
"""


def test_scripts_register_and_export_what_the_committed_ones_did(tmp_path):
    olds = {}
    for name, path in SCRIPTS.items():
        text = _head(path)
        if text is None:
            pytest.skip("no git checkout: HEAD's scripts cannot be read")
        olds[name] = tmp_path / f"head-{path.name}"
        olds[name].write_text(text)
    pairs = {name: [str(olds[name]), str(path)] for name, path in SCRIPTS.items()}
    got = node("const tf = require('@tensorflow/tfjs');\n" + _DESCRIBE + f"""
const pairs = {json.dumps(pairs)};
const out = {{}};
for (const [name, [old, now]] of Object.entries(pairs)) out[name] = {{old: describe(old), now: describe(now)}};
console.log(JSON.stringify(out));
""")
    for name in SCRIPTS:
        old, now = got[name]["old"], got[name]["now"]
        assert now["classes"] == old["classes"], name
        assert now["kinds"] == old["kinds"], name
    assert len(got["layers"]["now"]["classes"]) >= 40
    assert got["layers"]["now"]["kinds"] == {"VERSION": '"1"', "predict": "function", "register": "function"}
    assert set(got["tokenizers"]["now"]["kinds"]) == {"SPEC_FORMAT", "VERSION", "register", "tokenizer"}


def test_classic_scripts_in_a_page_like_context_leak_no_global():
    """A vm context whose global `tf` is a real TF.js: each script registers on it, and the globals it adds
    are exactly its API (and the `webnets` tokenizer hook, made when absent, completed when present)."""
    scripts = {name: str(path) for name, path in SCRIPTS.items()}
    got = node(f"""
const vm = require('vm');
const fs = require('fs');
const tf = require('@tensorflow/tfjs');
const scripts = {json.dumps(scripts)};
const run = (files, extra = {{}}) => {{
  const context = vm.createContext({{tf, TextEncoder, TextDecoder, console, ...extra}});
  const before = new Set(Object.getOwnPropertyNames(context));
  for (const file of files) vm.runInContext(fs.readFileSync(file, 'utf8'), context, {{filename: file}});
  const added = Object.getOwnPropertyNames(context).filter((k) => !before.has(k)).sort();
  return {{context, added}};
}};
const registered = () => Object.keys(tf.serialization.SerializationMap.getMap().classNameMap);
const out = {{}};
const webnetsClasses = () => registered().filter((n) => n.startsWith('Webnets')).sort();
out.before = webnetsClasses();
const layers = run([scripts.layers]);
const onLoad = webnetsClasses();  // registered by loading the script, on the global tf
out.layers = {{added: layers.added, names: layers.context.webnetsLayers.register(tf).sort(),
               version: layers.context.webnetsLayers.VERSION}};
out.layersOnTf = JSON.stringify(onLoad) === JSON.stringify(out.layers.names);
const both = run([scripts.layers, scripts.tokenizers]);
out.both = {{added: both.added, hook: typeof both.context.webnets.tokenizer,
             same: both.context.webnets.tokenizer === both.context.webnetsTokenizers.tokenizer}};
out.tokenizersOnTf = ['WebnetsTokenizer', 'WebnetsStartEndPacker', 'WebnetsMultiSegmentPacker']
  .every((n) => registered().includes(n));
const demo = {{ready: 'kept'}};
const hooked = run([scripts.tokenizers], {{webnets: demo}});
out.hooked = {{added: hooked.added, kept: hooked.context.webnets === demo && demo.ready === 'kept',
               hook: typeof demo.tokenizer}};
console.log(JSON.stringify(out));
""")
    assert got["before"] == []
    assert got["layers"]["added"] == ["webnetsLayers"]
    assert got["layers"]["version"] == "1" and got["layersOnTf"]
    assert got["both"] == {"added": ["webnets", "webnetsLayers", "webnetsTokenizers"], "hook": "function", "same": True}
    assert got["tokenizersOnTf"]
    assert got["hooked"] == {"added": ["webnetsTokenizers"], "kept": True, "hook": "function"}


def test_scripts_carry_their_usage_header_and_say_they_are_generated():
    for path in SCRIPTS.values():
        head = path.read_text().splitlines()[:40]
        assert head[0].startswith(f"// {path.name}: ")
        generated = [line for line in head if line.startswith("// Generated by js/build.mjs from js/src/")]
        assert len(generated) == 1, path
