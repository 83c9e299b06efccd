"""Parse intrinsic function calls (``States.Format('{}', $.a)``) into a small syntax tree.

Spec, "Intrinsic Functions": an intrinsic is written ``States.Name(arg, ...)``;
each argument is a string literal in single quotes, a number, ``true``,
``false``, ``null``, a Path (``$...``, ``$$...``, ``$variable...``) or another
intrinsic call. Spec, "Reserved characters in intrinsic functions": inside a
string literal, "the literal string \\' represents ', \\{ represents {,
\\} represents }, and \\\\ represents \\"; "if an open escape backslash \\ is
found in the intrinsic invocation string, the interpreter will throw" an error.

The parser only builds the tree; ``registry.compile_intrinsic`` checks names,
arities and literal arguments and turns the tree into closures.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import AslError


class IntrinsicSyntaxError(AslError):
    """The intrinsic function call is not valid."""


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal argument: string, number, boolean or null.

    For a string, ``template`` holds the pieces around each unescaped ``{}``
    (what ``States.Format`` fills in), or None when the string has an unescaped
    ``{`` or ``}`` that is not part of a ``{}`` pair.
    """

    value: Any
    template: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PathArg:
    """A path argument: ``$...`` (input), ``$$...`` (context object) or ``$name...`` (variable)."""

    expr: str


@dataclass(frozen=True, slots=True)
class Call:
    """A call ``States.Name(args...)``."""

    name: str
    args: tuple[Any, ...]


_NAME = re.compile(r"States\.[A-Za-z0-9_]+")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_KEYWORD = re.compile(r"(true|false|null)\b")
_KEYWORDS = {"true": True, "false": False, "null": None}
_ESCAPES = {"'": "'", "{": "{", "}": "}", "\\": "\\"}
_WHITESPACE = " \t\n\r"


def parse_intrinsic(text: str) -> Call:
    """Parse ``text`` as one intrinsic call and return its tree.

    Raise ``IntrinsicSyntaxError`` for unbalanced quotes or parentheses, bad
    escapes, unknown argument forms and text after the closing parenthesis.
    """
    if not isinstance(text, str):
        raise IntrinsicSyntaxError(f"An intrinsic function call must be a string, not {type(text).__name__}.")
    parser = _Parser(text)
    call = parser.call()
    parser.skip_space()
    if parser.pos != len(text):
        raise parser.error(f"unexpected text {text[parser.pos:]!r} after the closing parenthesis")
    return call


class _Parser:
    __slots__ = ("text", "pos")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, problem: str) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(f"Invalid intrinsic function call {self.text!r}: {problem}.")

    def skip_space(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos

    def call(self) -> Call:
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.error(f"expected a function name like 'States.Format' at position {self.pos}")
        name = match.group()
        self.pos = match.end()
        self.skip_space()
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise self.error(f"expected '(' after {name}")
        self.pos += 1
        args: list[Any] = []
        self.skip_space()
        if self.peek() == ")":
            self.pos += 1
            return Call(name, ())
        while True:
            self.skip_space()
            args.append(self.argument())
            self.skip_space()
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char == ")":
                self.pos += 1
                return Call(name, tuple(args))
            elif char == "":
                raise self.error(f"missing ')' to close the call to {name}")
            else:
                raise self.error(f"expected ',' or ')' at position {self.pos}, found {char!r}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def argument(self) -> Any:
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return PathArg(self.path())
        if char == "S" and self.text.startswith("States.", self.pos):
            return self.call()
        keyword = _KEYWORD.match(self.text, self.pos)
        if keyword:
            self.pos = keyword.end()
            return Literal(_KEYWORDS[keyword.group()])
        number = _NUMBER.match(self.text, self.pos)
        if number and not self._continues_word(number.end()):
            self.pos = number.end()
            token = number.group()
            if "." in token or "e" in token or "E" in token:
                value = float(token)
                if value != value or value in (float("inf"), float("-inf")):
                    raise self.error(f"the number {token} is out of range")
                return Literal(value)
            return Literal(int(token))
        if char in ("", ",", ")"):
            raise self.error(f"missing argument at position {self.pos}")
        raise self.error(f"unexpected {char!r} at position {self.pos}")

    def _continues_word(self, end: int) -> bool:
        return end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "._$")

    def string(self) -> Literal:
        """Read a quoted literal; return its value and its ``{}`` template pieces."""
        text = self.text
        start = self.pos
        pos = start + 1
        value: list[str] = []
        pieces: list[str] = []
        current: list[str] = []
        valid_template = True
        while True:
            if pos >= len(text):
                raise IntrinsicSyntaxError(
                    f"Invalid intrinsic function call {text!r}: the string starting at position {start} "
                    "is not closed with a quote."
                )
            char = text[pos]
            if char == "'":
                pos += 1
                break
            if char == "\\":
                escaped = text[pos + 1] if pos + 1 < len(text) else ""
                if escaped not in _ESCAPES:
                    # Spec: "If an open escape backslash \ is found in the intrinsic
                    # invocation string, the interpreter will throw a runtime error."
                    raise IntrinsicSyntaxError(
                        f"Invalid intrinsic function call {text!r}: the backslash at position {pos} must be "
                        "followed by ', {, } or \\ (write \\\\ for a backslash)."
                    )
                value.append(_ESCAPES[escaped])
                current.append(_ESCAPES[escaped])
                pos += 2
                continue
            if char == "{":
                if text.startswith("{}", pos):
                    value.append("{}")
                    pieces.append("".join(current))
                    current = []
                    pos += 2
                    continue
                valid_template = False
            elif char == "}":
                valid_template = False
            value.append(char)
            current.append(char)
            pos += 1
        pieces.append("".join(current))
        self.pos = pos
        return Literal("".join(value), tuple(pieces) if valid_template else None)

    def path(self) -> str:
        """Read a path up to the ',' or ')' that ends the argument.

        Brackets, parentheses and quotes inside the path (``$.a['x,y']``,
        ``$.a[?(@.b == 1)]``) are skipped over as a unit.
        """
        text = self.text
        start = pos = self.pos
        depth = 0
        quote = ""
        while pos < len(text):
            char = text[pos]
            if quote:
                if char == "\\":
                    pos += 2
                    continue
                if char == quote:
                    quote = ""
            elif char in "'\"" and depth > 0:
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            pos += 1
        if quote or depth:
            raise self.error(f"the path starting at position {start} is not closed")
        self.pos = pos
        return text[start:pos].rstrip(_WHITESPACE)
