"""The layout the README describes, held by the code: imports run one way through exporter's
stages, models/ never imports exporter/, bench/ never imports tests/, and no package reaches
into another's private names."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# exporter's parts by stage: a module may import its own part or a part of a lower rank only.
RANKS = {
    "errors": 0, "official": 0, "runtime": 0,
    "weights": 1, "output": 1, "text": 1,
    "layers": 2, "optimize": 2, "quantize": 2, "parity": 2, "publish": 2, "browser": 2,
    "pipeline": 3, "importer": 3, "plugins": 3,
    "zoo": 4,
    "cli": 5,
    "__main__": 6,
}


def _imports(path, package):
    """(imported dotted module, imported names) for every import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            yield module, [alias.name for alias in node.names]


def _modules(top):
    for path in sorted((ROOT / top).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        package = ".".join(parts if parts[-1] == "__init__" else parts[:-1]).removesuffix(".__init__")
        yield path, ".".join(parts).removesuffix(".__init__"), package


def _part(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_exporter_imports_run_one_way():
    backwards = []
    for path, module, package in _modules("exporter"):
        own = _part(module)
        if own is None:
            continue  # exporter/__init__.py: the lazy public API
        for imported, names in _imports(path, package):
            if not imported.startswith("exporter"):
                continue
            target = _part(imported)
            if target is None:
                # `from .. import __version__` and `from .. import official` read the package root only
                target_names = [n for n in names if n != "__version__"]
                if all(n in RANKS for n in target_names) and all(RANKS[n] < RANKS[own] for n in target_names):
                    continue
                backwards.append(f"{module} imports exporter ({names})")
            elif target != own and RANKS[target] >= RANKS[own]:
                backwards.append(f"{module} ({own}, rank {RANKS[own]}) imports {imported} (rank {RANKS[target]})")
    assert backwards == []


def test_every_exporter_part_has_a_rank():
    parts = {p.stem if p.is_file() else p.name for p in (ROOT / "exporter").iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())}
    assert parts == set(RANKS)


def test_models_never_import_exporter_and_bench_never_imports_tests():
    found = [f"{module} imports {imported}" for top, banned in (("models", "exporter"), ("bench", "tests"))
             for path, module, package in _modules(top) for imported, _ in _imports(path, package)
             if imported == banned or imported.startswith(banned + ".")]
    assert found == []


def test_no_private_names_cross_packages():
    found = []
    for top in ("exporter", "models", "bench", "tests"):
        for path, module, package in _modules(top):
            for imported, names in _imports(path, package):
                if imported.split(".")[0] not in ("exporter", "models", "bench", "tests"):
                    continue
                if imported.split(".")[0] == top and imported.startswith(package):
                    continue  # within the importing package
                private = [n for n in names if n.startswith("_") and n != "__version__"]
                private += [p for p in imported.split(".") if p.startswith("_") and p not in ("__init__",)]
                if private:
                    found.append(f"{module}: from {imported} import {', '.join(names)}")
    assert found == []
