"""Each built function imported as Lambda imports it, from `sam build`'s output (run `make cold-start`).

For every function of .aws-sam/build/template.yaml, in fresh interpreters laid out like Lambda (the
function's code first, then the layer's `python/`, then only the runtime's packages: boto3 and the
rest of the Makefile's LAMBDA_RUNTIME_PACKAGES, given as arguments, precompiled as the runtime ships them; no site-packages), with
bytecode writing off as on Lambda's read-only filesystem, it prints side by side (alternated runs, medians):

    the import time of the handler with the layer as built (precompiled, layers/common/Makefile)
    the import time with a copy of that layer without its .pyc files, compiled at every cold start

and it fails unless every module the functions can import (the handler's imports, every module of
smsbridge, every third-party package smsbridge imports anywhere, even inside a function) imports
there, the layer's from its .pyc files.
"""
from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam/build"
sys.path.insert(0, str(ROOT))

from local.template import Template  # noqa: E402

PROBE = """
import importlib, importlib.util, json, os, sys, time
sys.path[:0] = {paths!r}
start = time.perf_counter()
importlib.import_module({handler!r})
elapsed = time.perf_counter() - start
for name in {modules!r}:
    importlib.import_module(name)
origins = {{}}
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None)
    if path and not path.startswith(sys.base_prefix):
        origins[name] = [path, path.endswith(".py") and os.path.exists(importlib.util.cache_from_source(path))]
print(json.dumps({{"elapsed": elapsed, "origins": origins}}))
"""


def third_party_imports(package: Path) -> set[str]:
    """Every top-level module a package imports anywhere (functions included), but the stdlib and itself."""
    names = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {package.name, "__future__"}


def package_modules(package: Path) -> list[str]:
    return sorted(".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
                  for path in package.rglob("*.py"))


def probe(paths: list[str], handler: str, modules: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-S", "-c", PROBE.format(paths=paths, handler=handler, modules=modules)],
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"importing {handler} from the build failed:\n{out.stderr.strip()}")
    return json.loads(out.stdout)


def uncompiled(origins: dict[str, list], layers: list[Path]) -> list[str]:
    return [f"{name}: no .pyc in the layer ({path})" for name, (path, compiled) in sorted(origins.items())
            if path.endswith(".py") and not compiled and any(path.startswith(str(layer)) for layer in layers)]


def runtime_packages(distributions: list[str], into: Path) -> Path:
    """A folder holding only the runtime's packages (links into this venv), precompiled as the runtime
    ships them (compileall writes what pip would have written)."""
    wanted = {name.lower().replace("_", "-") for name in distributions}
    modules = {module for module, owners in importlib.metadata.packages_distributions().items()
               if wanted & {owner.lower().replace("_", "-") for owner in owners} and not module.startswith("_")}
    for name in sorted(modules):
        origin = Path(importlib.util.find_spec(name).origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (into / source.name).symlink_to(source)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(source)], check=True)
    return into


def main(runtime_distributions: list[str], runs: int = 5) -> int:
    if not runtime_distributions:
        print("usage: cold_imports.py DISTRIBUTION... (what the Lambda runtime ships; `make cold-start` gives them)",
              file=sys.stderr)
        return 2
    if not (BUILD / "template.yaml").exists():
        print("no .aws-sam/build: run `make build` first (`make cold-start` does)", file=sys.stderr)
        return 2
    template = Template.load(BUILD / "template.yaml", endpoint_url="http://127.0.0.1:4566")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")} | {
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": "cold-imports", "PYTHONDONTWRITEBYTECODE": "1"}
    failures: list[str] = []
    print(f"{'function':<18}{'layer as built':>16}{'layer from source':>20}")
    with tempfile.TemporaryDirectory(prefix="smsbridge-cold-imports-") as scratch:
        runtime = runtime_packages(runtime_distributions, Path(scratch))
        for function in template.functions:
            layers = [path / "python" for path in function.layer_paths]
            sources = [Path(scratch) / f"{function.logical_id}-{i}" for i in range(len(layers))]
            for layer, copy in zip(layers, sources):
                shutil.copytree(layer, copy, ignore=shutil.ignore_patterns("__pycache__"))
            built_paths = [str(function.code_uri), *map(str, layers), str(runtime)]
            source_paths = [str(function.code_uri), *map(str, sources), str(runtime)]
            function_env = env | dict(function.environment)
            modules = [name for layer in layers for name in package_modules(layer / "smsbridge")]
            modules += sorted({name for layer in layers for name in third_party_imports(layer / "smsbridge")})
            checked = probe(built_paths, function.handler_module, modules, function_env)
            failures += uncompiled(checked["origins"], layers)
            built, source = [], []
            for _ in range(runs):  # alternated, so that drift in machine load hits both alike
                built.append(probe(built_paths, function.handler_module, [], function_env)["elapsed"])
                source.append(probe(source_paths, function.handler_module, [], function_env)["elapsed"])
            print(f"{function.logical_id:<18}{statistics.median(built) * 1000:>13.0f} ms"
                  f"{statistics.median(source) * 1000:>17.0f} ms")
    if failures:
        print("\nthe built layer is not what Lambda needs:\n  " + "\n  ".join(sorted(set(failures))), file=sys.stderr)
        return 1
    print("\nevery module the functions can import is in the build, precompiled, or in the runtime's packages")
    return 0


if __name__ == "__main__":
    # The distributions the Lambda runtime ships: the Makefile's LAMBDA_RUNTIME_PACKAGES.
    sys.exit(main(sys.argv[1:]))
