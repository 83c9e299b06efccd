"""Intrinsic functions (``States.Format``, ``States.Array`` ... ``States.UUID``), JSONPath mode.

``compile_intrinsic(text)`` parses and checks a call once and returns
``fn(data, env) -> value``; ``is_intrinsic(text)`` tells a call from a path.
The functions live in one module per family and register themselves in
``registry``.
"""
from __future__ import annotations

from .parser import IntrinsicSyntaxError
from .registry import REGISTRY, compile_intrinsic, is_intrinsic

# Importing the families fills the registry.
from . import array, encoding, generic, json_, math, string  # noqa: E402,F401  isort: skip

__all__ = ["IntrinsicSyntaxError", "REGISTRY", "compile_intrinsic", "is_intrinsic"]
