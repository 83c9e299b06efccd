"""Enforce STYLE.md's layering and import rules by reading every module's imports.

    asl  <-  models  <-  engine  <-  {api, admin, management}

* each layer imports only the layers to its left; ``conf``, ``signals`` and
  ``exceptions`` may be imported anywhere except ``asl``;
* ``django_asl.asl`` imports only the standard library and the language libraries,
  and never reads the clock, random numbers or the network (only ``asl/context.py``,
  which supplies them through ``Context``, the in-memory runner ``asl/runner.py``
  and the CLI in ``asl/__main__.py`` may);
* front ends use only what ``engine/__init__.py`` exports and never import each other;
* ``engine/queue.py`` is the only ``django_q`` import, ``api`` the only DRF import;
* only ``engine/history.py`` writes history;
* ``apps.ready()`` only imports ``checks``; importing ``django_asl`` needs no settings.

Every module must belong to a known layer: a new top-level module or package
needs a row in ``LAYERS`` below, i.e. a decision about where it sits.
"""
from __future__ import annotations

import ast
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = "django_asl"

# Layer of each top-level part of the package, and the layers it may import.
LAYERS = {
    "asl": "asl",
    "models": "models",
    "engine": "engine",
    "api": "api",
    "admin": "admin",
    "management": "management",
    "conf": "base",
    "signals": "base",
    "exceptions": "base",
    "compat": "base",  # what differs between the supported Django versions
    "checks": "checks",
    "apps": "apps",
    "migrations": "migrations",
    "testing": "testing",  # the pytest plugin for users' workflow tests: the language core only, no settings
}
FRONT_ENDS = {"api", "admin", "management"}
MAY_IMPORT = {
    "asl": {"asl"},
    "base": {"base"},
    "models": {"asl", "base", "models"},
    "engine": {"asl", "base", "models", "engine"},
    "api": {"asl", "base", "models", "engine", "api"},
    "admin": {"asl", "base", "models", "engine", "admin"},
    "management": {"asl", "base", "models", "engine", "management"},
    "checks": {"asl", "base", "checks"},
    "apps": {"checks"},
    "migrations": {"asl", "base", "migrations"},
    "testing": {"asl", "testing"},
    "root": set(),  # django_asl/__init__.py: lazy imports inside functions only
}
ASL_THIRD_PARTY = {"jsonpath_ng", "yaml", "jsonata"}
# Sources of time and randomness, which reach asl only through Context.
CLOCK_AND_RANDOM = {"random", "secrets", "uuid", "time"}
NETWORK = {"socket", "ssl", "http", "urllib.request", "ftplib", "smtplib", "asyncio", "requests", "httpx",
           "urllib3", "aiohttp", "subprocess"}
# context.py supplies time and randomness; the in-memory runner drives real task
# handlers (it sleeps for a SystemClock and times TimeoutSeconds with a monotonic
# clock); the CLI is the outside world. States, paths, rules etc. never read them.
MAY_READ_CLOCK = {"django_asl.asl.context", "django_asl.asl.runner", "django_asl.asl.__main__"}
HISTORY_WRITES = {"create", "bulk_create", "get_or_create", "update_or_create"}


def module_name(path: pathlib.Path) -> tuple[str, bool]:
    """Return the dotted name of the module at ``path`` and whether it is a package."""
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def package_modules() -> list[pathlib.Path]:
    return sorted(p for p in (REPO_ROOT / PACKAGE).rglob("*.py") if "__pycache__" not in p.parts)


def layer_of(module: str) -> str | None:
    """Return the layer of a django_asl module, ``"root"`` for the package itself."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    if len(parts) == 1:
        return "root"
    return LAYERS.get(parts[1])


def in_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST | None:
    """Return the innermost function enclosing ``node``, if any."""
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node
    return None


def imports_of(tree: ast.Module, module: str, is_package: bool) -> list[tuple[str, ast.AST]]:
    """Return (absolute imported name, node) for every import in the tree.

    ``from X import y`` yields ``X.y``: y may be a submodule, and for attributes the
    extra component is harmless (rules match on prefixes).
    """
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.extend((f"{source}.{alias.name}" if alias.name != "*" else source, node) for alias in node.names)
    return found


def is_under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Return every breach of the rules in one module's source, as readable lines."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    layer = layer_of(module)
    if layer is None:
        top = module.split(".")[1]
        return [f"{module}: unknown part of the package {top!r}; add it to LAYERS in tests/test_layering.py"]
    found = []
    for name, node in imports_of(tree, module, is_package):
        where = f"{module}:{node.lineno}: imports {name}"
        top = name.split(".")[0]
        function = in_function(node, parents)
        if top == PACKAGE:
            target = layer_of(name)
            if layer == "root":
                if function is None:
                    found.append(f"{where}; django_asl/__init__.py must import lazily (inside __getattr__)")
                continue
            if layer == "apps":
                if function is None or function.name != "ready" or target != "checks":
                    found.append(f"{where}; apps.py may only import checks, inside ready()")
                continue
            if target is None and name.count(".") == 1:
                # `from django_asl import X`: X is an attribute of the root package.
                target = "root"
            if target not in MAY_IMPORT[layer]:
                found.append(f"{where}; the {layer} layer may not import the {target} layer")
            elif layer in FRONT_ENDS and target == "engine" and not (
                name == f"{PACKAGE}.engine" or (isinstance(node, ast.ImportFrom)
                                                 and node.module in ("engine", f"{PACKAGE}.engine"))
            ):
                found.append(f"{where}; front ends use only what django_asl.engine exports")
        elif layer == "asl":
            if top not in sys.stdlib_module_names and top not in ASL_THIRD_PARTY and top != "__future__":
                found.append(f"{where}; django_asl.asl imports only the standard library and "
                             f"{', '.join(sorted(ASL_THIRD_PARTY))}")
            elif any(is_under(name, n) for n in NETWORK):
                found.append(f"{where}; django_asl.asl never uses the network")
            elif top in CLOCK_AND_RANDOM and module not in MAY_READ_CLOCK:
                found.append(f"{where}; time and randomness reach django_asl.asl through Context")
        elif top == "django" and layer == "root" and function is None:
            found.append(f"{where}; importing django_asl must not import Django")
        elif top == "django_q" and module != f"{PACKAGE}.engine.queue":
            found.append(f"{where}; engine/queue.py is the only django_q import")
        elif top == "rest_framework" and layer != "api":
            found.append(f"{where}; only django_asl.api uses DRF")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        func = node.func
        if (layer == "asl" and module not in MAY_READ_CLOCK and func.attr in ("now", "utcnow", "today")
                and ast.unparse(func.value).split(".")[-1] in ("datetime", "date")):
            found.append(f"{module}:{node.lineno}: calls {ast.unparse(func)}(); "
                         "time reaches django_asl.asl through Context")
        if (func.attr in HISTORY_WRITES and ast.unparse(func.value).endswith("HistoryEvent.objects")
                and module != f"{PACKAGE}.engine.history"):
            found.append(f"{module}:{node.lineno}: writes history; only engine/history.py does")
    return found


@pytest.mark.parametrize("path", package_modules(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_module_follows_layering_rules(path):
    module, is_package = module_name(path)
    assert violations(module, path.read_text(encoding="utf-8"), is_package) == []


def test_importing_django_asl_needs_no_django():
    # Importing the package and the whole language core loads no Django and needs no
    # settings (STYLE.md: the public API is resolved lazily; asl is framework-free).
    code = textwrap.dedent("""
        import importlib, pkgutil, sys
        import django_asl, django_asl.asl
        for info in pkgutil.walk_packages(django_asl.asl.__path__, "django_asl.asl."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
        loaded = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
        print(loaded)
        sys.exit(1 if loaded else 0)
    """)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# The checker itself, on made-up modules: each rule must be able to fail.
@pytest.mark.parametrize(
    "module, source, expected",
    [
        # asl importing Django
        ("django_asl.asl.paths", "from django.conf import settings", ["the standard library"]),
        # asl importing the Django side of the package
        ("django_asl.asl.paths", "from django_asl.conf import asl_settings", ["asl layer may not import the base"]),
        # asl reaching up through a relative import
        ("django_asl.asl.paths", "from .. import models", ["asl layer may not import the models"]),
        # asl importing its own modules and the language libraries: allowed
        ("django_asl.asl.states.task", "from ..errors import StatesError\nimport jsonpath_ng\nimport yaml", []),
        # asl reading the clock or random numbers
        ("django_asl.asl.retry", "import random", ["through Context"]),
        ("django_asl.asl.states.wait", "import datetime\nx = datetime.datetime.now()", ["calls datetime.datetime.now()"]),
        ("django_asl.asl.context", "import random, uuid\nfrom datetime import datetime\nx = datetime.now()", []),
        # asl using the network
        ("django_asl.asl.states.task", "import urllib.request", ["never uses the network"]),
        # models importing engine
        ("django_asl.models", "from django_asl.engine import advance", ["models layer may not import the engine"]),
        ("django_asl.models", "from .asl import validate\nfrom .conf import asl_settings", []),
        # a front end importing engine internals, or another front end
        ("django_asl.api.views", "from django_asl.engine.history import record", ["only what django_asl.engine exports"]),
        ("django_asl.api.views", "from ..engine import start_execution\nfrom .serializers import X", []),
        ("django_asl.admin", "from .engine import start_execution", []),
        ("django_asl.admin", "from django_asl.api.serializers import X", ["admin layer may not import the api"]),
        # django_q outside engine/queue.py
        ("django_asl.engine.core", "from django_q.tasks import async_task", ["engine/queue.py is the only"]),
        ("django_asl.engine.queue", "from django_q.tasks import async_task", []),
        # DRF outside api
        ("django_asl.admin", "from rest_framework import serializers", ["only django_asl.api uses DRF"]),
        # history written outside engine/history.py
        ("django_asl.engine.core", "HistoryEvent.objects.create(type='x')", ["writes history"]),
        ("django_asl.engine.history", "models.HistoryEvent.objects.bulk_create(rows)", []),
        # apps.py importing more than checks, or outside ready()
        ("django_asl.apps", "from . import checks", ["inside ready()"]),
        ("django_asl.apps", "class C:\n    def ready(self):\n        from . import checks", []),
        ("django_asl.apps", "class C:\n    def ready(self):\n        from . import models", ["apps.py may only"]),
        # the root package importing eagerly
        ("django_asl", "from django_asl.engine import start_execution", ["must import lazily"]),
        ("django_asl", "import django", ["must not import Django"]),
        ("django_asl", "def __getattr__(name):\n    from . import engine\n    return getattr(engine, name)", []),
        # conf may not import models
        ("django_asl.conf", "from .models import Execution", ["base layer may not import the models"]),
        # an undeclared top-level module
        ("django_asl.utils", "", ["add it to LAYERS"]),
    ],
)
def test_checker(module, source, expected):
    is_package = module in ("django_asl", "django_asl.models")
    found = violations(module, source, is_package)
    assert len(found) == len(expected), found
    for line, fragment in zip(found, expected):
        assert fragment in line
