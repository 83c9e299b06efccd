"""Paths: compiled once per definition, resolved on every state transition.

ASL names three kinds of path (spec, "Paths"):

* a *Path* (``InputPath``, ``OutputPath``, ``ItemsPath``, payload-template values)
  is any JsonPath starting with ``$``; it may select several nodes
  (wildcards, slices, filters, descendants), and then yields a list;
* a *Reference Path* (``ResultPath``, the ``...Path`` fields) "can only identify a
  single node": fields and array indexes only;
* ``$$`` starts a path into the context object, and ``$name`` into a variable.

Simple paths (only ``.field``, ``['field']`` and ``[n]``) compile to a tuple of
keys walked directly; anything else is parsed by jsonpath-ng. Parsing happens
once, in ``compile_path``; ``resolve`` never parses.

Missing values are reported with the texts AWS (Jayway JsonPath) uses:
"Missing property in path $['a']" when an intermediate field is missing, and
"No results for path: $['a']['b']" when the last one is.
"""
from __future__ import annotations

import json
import re
import warnings
from functools import lru_cache
from typing import Any

from .errors import AslError

INPUT, CONTEXT, VARIABLE = "input", "context", "variable"

# One step of a simple path: `.name` (a backslash escapes the next character),
# `['name']`, `["name"]`, `[n]`, or the script expression `[(@.length-n)]`.
_STEP = re.compile(
    r"""\.((?:[^.\[\]\s'"()*?@,:\\]|\\.)+)"""
    r"""|\['((?:[^'\\]|\\.)*)'\]|\["((?:[^"\\]|\\.)*)"\]"""
    r"""|\[(-?\d+)\]|\[\(@\.length\s*-\s*(\d+)\)\]"""
)
_VARIABLE_NAME = re.compile(r"\$([^\W\d]\w*)", re.UNICODE)
_MAX_PATH_LENGTH = 10_000


class PathSyntaxError(AslError):
    """The path is not a valid JsonPath."""


class PathNotFound(AslError):
    """The path selects nothing in the data it was applied to."""

    def __init__(self, expr: str, detail: str) -> None:
        self.expr = expr
        self.detail = detail
        super().__init__(f"Invalid path '{expr}' : {detail}")


def to_json(value: Any) -> str:
    """Return ``value`` as compact JSON text, the way Step Functions quotes data in causes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _jayway(keys: tuple) -> str:
    """Return keys in Jayway's normalised notation: ``$['a'][0]``."""
    return "$" + "".join(f"[{k}]" if isinstance(k, int) else f"['{k}']" for k in keys)


def _java_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, list):
        return "java.util.ArrayList"
    return "java.util.LinkedHashMap"


class Path:
    """A compiled path. Call ``resolve(data, env)`` to read the value it selects."""

    __slots__ = ("expr", "root", "variable", "keys", "definite", "reference", "_compiled")

    def __init__(self, expr: str, root: str, variable: str | None, keys: tuple | None, compiled: Any,
                 reference: bool = False) -> None:
        self.expr = expr
        self.reference = reference
        self.root = root
        self.variable = variable
        self.keys = keys
        self._compiled = compiled
        self.definite = keys is not None

    def __repr__(self) -> str:
        return f"Path({self.expr!r})"

    def resolve(self, data: Any, env: Any = None) -> Any:
        """Return the value the path selects in ``data`` (or in ``$$``/a variable).

        A definite path returns its single value or raises ``PathNotFound``; an
        indefinite one (wildcard, slice, filter, descendants) returns the list
        of matches, possibly empty, as AWS does.
        """
        if self.root is not INPUT:
            data = self._root_value(env)
        keys = self.keys
        if keys is None:
            return [match.value for match in self._compiled.find(data)]
        for position, key in enumerate(keys):
            if type(data) is dict:
                try:
                    data = data[key]
                    continue
                except (KeyError, TypeError):
                    if isinstance(key, int):
                        self._missing(keys, position, data)
                    if position == len(keys) - 1:
                        raise PathNotFound(self.expr, f"No results for path: {_jayway(keys)}") from None
                    raise PathNotFound(self.expr, f"Missing property in path {_jayway(keys[:position + 1])}") from None
            if type(data) is list and type(key) is int:
                try:
                    data = data[key]
                    continue
                except IndexError:
                    raise PathNotFound(self.expr, f"No results for path: {_jayway(keys)}") from None
            self._missing(keys, position, data)
        return data

    def _root_value(self, env: Any) -> Any:
        if env is None:
            raise PathNotFound(self.expr, "No context is available to evaluate this path")
        if self.root is CONTEXT:
            return env.context_object
        variables = env.variables
        if self.variable not in variables:
            raise PathNotFound(self.expr, f"The variable '{self.variable}' is not defined")
        return variables[self.variable]

    def _missing(self, keys: tuple, position: int, data: Any) -> None:
        key = keys[position]
        where = _jayway(keys[:position])
        if isinstance(key, int):
            if data is None:
                raise PathNotFound(self.expr, f"The path {where} is null")
            raise PathNotFound(self.expr, f"Filter: [{key}] can only be applied to arrays. Current context is: {to_json(data)}")
        raise PathNotFound(
            self.expr,
            f"Expected to find an object with property ['{key}'] in path {where} but found '{_java_type(data)}'. "
            "This is not a json object according to the JsonProvider: "
            "'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
        )

    def exists(self, data: Any, env: Any = None) -> bool:
        """Return whether the path selects something (``IsPresent``)."""
        try:
            value = self.resolve(data, env)
        except PathNotFound:
            return False
        return self.definite or bool(value)


def _split_root(expr: str) -> tuple[str, str | None, str]:
    """Split ``expr`` into (root kind, variable name, rest after the root)."""
    if expr.startswith("$$"):
        return CONTEXT, None, expr[2:]
    match = _VARIABLE_NAME.match(expr)
    if match:
        return VARIABLE, match.group(1), expr[match.end():]
    if expr.startswith("$"):
        return INPUT, None, expr[1:]
    raise PathSyntaxError(f"The path '{expr}' must start with '$'.")


def _simple_keys(rest: str) -> tuple[tuple, bool] | None:
    """Return the keys of a path made only of fields and indexes, else None.

    The flag says whether the path is also a Reference Path: no negative
    index and no script expression.
    """
    keys: list = []
    reference = True
    position = 0
    while position < len(rest):
        match = _STEP.match(rest, position)
        if match is None:
            return None
        name, single, double, index, from_end = match.groups()
        if name is not None:
            keys.append(re.sub(r"\\(.)", r"\1", name))
        elif single is not None:
            # Only an escaped quote is unescaped: AWS keeps `\"` as two characters.
            keys.append(single.replace("\\'", "'"))
        elif double is not None:
            keys.append(double.replace('\\"', '"'))
        elif index is not None:
            keys.append(int(index))
            reference = reference and not index.startswith("-")
        else:
            keys.append(-int(from_end))
            reference = False
        position = match.end()
    return tuple(keys), reference


@lru_cache(maxsize=4096)
def compile_path(expr: str) -> Path:
    """Compile a Path, Reference Path, context path (``$$``) or variable path (``$name``).

    Raise ``PathSyntaxError`` when ``expr`` is not a valid JsonPath.
    """
    if not isinstance(expr, str):
        raise PathSyntaxError(f"A path must be a string, not {type(expr).__name__}.")
    if len(expr) > _MAX_PATH_LENGTH:
        raise PathSyntaxError(f"The path is longer than {_MAX_PATH_LENGTH} characters.")
    root, variable, rest = _split_root(expr)
    simple = _simple_keys(rest)
    if simple is not None:
        keys, reference = simple
        return Path(expr, root, variable, keys, None, reference)
    if re.search(r"\?\(.*\$", rest):
        # A filter may compare with literals and `@` only, not with the document root.
        raise PathSyntaxError(f"The path '{expr}' refers to '$' inside a filter expression.")
    parsed = _parse_jsonpath("$" + rest, expr)
    keys = _definite_keys(parsed)
    return Path(expr, root, variable, keys, parsed, keys is not None and all(
        not isinstance(key, int) or key >= 0 for key in keys))


def _definite_keys(node: Any) -> tuple | None:
    """Return the keys of a parsed path that selects a single node, else None."""
    from jsonpath_ng.jsonpath import Child, Fields, Index, Root

    keys: list = []
    while isinstance(node, Child):
        step = node.right
        if isinstance(step, Fields) and len(step.fields) == 1:
            keys.append(step.fields[0])
        elif isinstance(step, Index) and len(step.indices) == 1:
            keys.append(step.indices[0])
        else:
            return None
        node = node.left
    if not isinstance(node, Root):
        return None
    return tuple(reversed(keys))


def _parse_jsonpath(text: str, expr: str) -> Any:
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext import parse

    try:
        with warnings.catch_warnings():
            # jsonpath-ng warns about syntax it will drop in 2.0; the validator decides what we accept.
            warnings.simplefilter("ignore", DeprecationWarning)
            return parse(text)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:
        raise PathSyntaxError(f"The path '{expr}' is not a valid JsonPath ({exc}).") from None


# "The operators '@', ',', ':', and '?' are not supported - all Reference Paths
#  MUST be unambiguous references to a single value, array, or object" (spec, "Reference Paths").
def check_path_syntax(expr: Any, kind: str = "path") -> str | None:
    """Return why ``expr`` is not a valid path of ``kind``, or None when it is.

    ``kind`` is ``"path"`` (any JsonPath), ``"reference"`` (a Reference Path) or
    ``"result"`` (a ``ResultPath``: a Reference Path into the input, not ``$$``).
    """
    if not isinstance(expr, str):
        return "must be a string"
    try:
        path = compile_path(expr)
    except PathSyntaxError as exc:
        return str(exc)
    if kind in ("reference", "result") and not path.reference:
        return f"'{expr}' must be a Reference Path: fields and array indexes only"
    if kind == "result" and path.root is not INPUT:
        return f"'{expr}' must be a path into the state's input starting with '$'"
    return None
