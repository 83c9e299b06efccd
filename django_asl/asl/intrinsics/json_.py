"""JSON intrinsics (States.StringToJson, States.JsonToString, States.JsonMerge) and JSON value helpers.

The helpers give JSON semantics where Python's differ: ``json_equal`` and
``json_key`` keep ``true`` apart from ``1`` (while ``1`` equals ``1.0``), and
``json_text`` / ``java_number`` write numbers as Step Functions (Jackson on the
JVM) does, e.g. ``1.0E20`` rather than ``1e+20``.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

from .registry import ANY, BOOLEAN, OBJECT, STRING, UNKNOWN, InvalidArguments, intrinsic


def json_equal(left: Any, right: Any) -> bool:
    """Return whether two JSON values are equal: objects by content, arrays in order, ``true`` is not ``1``."""
    if left is right:
        return True
    left_type, right_type = type(left), type(right)
    if left_type is not right_type:
        return (left_type in (int, float) and right_type in (int, float)) and left == right
    if left_type is list:
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right))
    if left_type is dict:
        return left.keys() == right.keys() and all(json_equal(value, right[key]) for key, value in left.items())
    return left == right


def json_key(value: Any) -> Any:
    """Return a hashable key such that ``json_key(a) == json_key(b)`` exactly when ``json_equal(a, b)``."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is bool:
        return ("bool", value)
    if kind is int or kind is float:
        return ("number", value)
    if kind is list:
        return ("array", tuple(json_key(item) for item in value))
    return ("object", frozenset((key, json_key(item)) for key, item in value.items()))


def java_number(value: int | float) -> str:
    """Return a number as Java writes it: integers as they are, doubles like ``Double.toString``."""
    if type(value) is not float:
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if ("." in text or "e" in text or "n" in text) else text + ".0"
    # Shortest round-tripping digits, then Java's d.dddE<n> layout.
    digits = repr(value)
    if "e" in digits:
        mantissa, _, exponent = digits.partition("e")
    else:
        mantissa, exponent = _scientific(digits)
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}E{int(exponent)}"


def _scientific(digits: str) -> tuple[str, str]:
    """Split a plain decimal repr (``12345678.9``) into a one-digit mantissa and an exponent."""
    sign = "-" if digits.startswith("-") else ""
    digits = digits.lstrip("-")
    whole, _, fraction = digits.partition(".")
    all_digits = (whole + fraction).rstrip("0") or "0"
    exponent = len(whole) - 1
    mantissa = all_digits[0] + "." + (all_digits[1:] or "0")
    return sign + mantissa, str(exponent)


def json_text(value: Any) -> str:
    """Return ``value`` as compact JSON text, with numbers written as Jackson writes them."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is dict:
        return "{" + ",".join(f"{encode_basestring(key)}:{json_text(item)}" for key, item in value.items()) + "}"
    if kind is list:
        return "[" + ",".join(json_text(item) for item in value) + "]"
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    return java_number(value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


@intrinsic("States.StringToJson", STRING)
def states_string_to_json(text: str) -> Any:
    """Return the JSON value that ``text`` encodes.

    Handles: any JSON text; an empty or blank string gives null, as on AWS;
    text that is not JSON (or ``NaN``/``Infinity``) fails with "Invalid arguments
    in States.StringToJson"; a non-string argument fails alike.
    """
    stripped = text.strip(" \t\n\r")
    if not stripped:
        return None
    try:
        value, end = _DECODER.raw_decode(stripped)
    except ValueError:
        raise InvalidArguments from None
    if end != len(stripped):
        raise InvalidArguments
    return value


@intrinsic("States.JsonToString", ANY)
def states_json_to_string(value: Any) -> str:
    """Return ``value`` as compact JSON text (``{"a":1,"b":[]}``), whatever its type."""
    return json_text(value)


def _check_merge(args: list) -> str | None:
    deep = args[2]
    if deep is not UNKNOWN and deep.value is True:
        return "States.JsonMerge only supports a shallow merge: its third argument must be false."
    return None


@intrinsic("States.JsonMerge", OBJECT, OBJECT, BOOLEAN, static_check=_check_merge)
def states_json_merge(first: dict, second: dict, deep: bool) -> dict:
    """Return the shallow merge of two objects: keys of ``second`` replace those of ``first``.

    Handles: the shallow mode only (third argument ``false``); ``true`` (deep
    merge) fails with "Invalid arguments in States.JsonMerge", as do arguments
    that are not two objects and a boolean.
    """
    if deep:
        raise InvalidArguments
    merged = dict(first)
    merged.update(second)
    return merged
