"""Turn definition text (JSON or YAML, ``str`` or ``bytes``) into Python data, safely.

``load_text`` never raises for bad input: it returns the parsed value and the
problems found, as ``Issue`` objects with the root path ``$``. It guards against
what hostile text can do to a parser: oversized input, nesting deep enough to
exhaust the stack, YAML alias expansion ("billion laughs"), JSON's non-standard
``NaN``/``Infinity`` literals, and duplicate object keys (which a plain parser
silently resolves by keeping the last one).
"""
from __future__ import annotations

import json
from typing import Any

from .errors import Issue

#: Largest definition text accepted, in characters (AWS itself caps definitions at 1 MB).
MAX_TEXT_LENGTH = 16 * 1024 * 1024

FORMATS = ("json", "yaml")


class DuplicateKeyDict(dict):
    """A parsed JSON/YAML object that remembers which of its keys appeared more than once."""

    __slots__ = ("duplicate_keys",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.duplicate_keys: list[str] = []


def _object_from_pairs(pairs: list[tuple[Any, Any]]) -> dict:
    obj = DuplicateKeyDict()
    for key, value in pairs:
        if key in obj and key not in obj.duplicate_keys:
            obj.duplicate_keys.append(key)
        obj[key] = value
    if not obj.duplicate_keys:
        return dict(obj)
    return obj


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _text_issue(code: str, message: str) -> tuple[None, list[Issue]]:
    return None, [Issue("$", code, message)]


def decode_text(data: bytes | bytearray | memoryview) -> tuple[str | None, list[Issue]]:
    """Return ``data`` decoded as UTF-8 text, or None and the problem.

    RFC 8259 section 8.1: JSON text exchanged between systems MUST be encoded as
    UTF-8, and a parser MAY ignore a byte order mark, which is what we do.
    """
    raw = bytes(data)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(raw) > 1 and (raw[0] == 0 or raw[1] == 0)):
        return _text_issue("invalid_encoding", "The definition must be UTF-8 text; it looks like UTF-16 or UTF-32.")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        return _text_issue(
            "invalid_encoding",
            f"The definition must be UTF-8 text; byte {exc.start} is not valid UTF-8.",
        )


def load_text(text: str | bytes | bytearray | memoryview, format: str = "json") -> tuple[Any, list[Issue]]:
    """Parse definition text and return ``(value, issues)``; never raise for bad text.

    ``format`` is ``"json"`` (RFC 8259, strictly: no comments, no trailing commas,
    no ``NaN``) or ``"yaml"`` (``yaml.safe_load`` without aliases). When ``issues``
    holds an error, ``value`` is None. Duplicate keys are not errors here: the
    objects that had them are ``DuplicateKeyDict`` instances, so that the
    validator can report them with their paths.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}.")
    if isinstance(text, (bytes, bytearray, memoryview)):
        if len(text) > 4 * MAX_TEXT_LENGTH:
            return _text_issue("too_large", f"The definition must be at most {MAX_TEXT_LENGTH} characters long.")
        text, issues = decode_text(text)
        if text is None:
            return None, issues
    elif not isinstance(text, str):
        raise TypeError(f"text must be str or bytes, not {type(text).__name__}.")
    text = str(text)  # a str subclass may override comparisons; parse a plain copy
    if text.startswith("\ufeff"):
        text = text[1:]
    if len(text) > MAX_TEXT_LENGTH:
        return _text_issue("too_large", f"The definition must be at most {MAX_TEXT_LENGTH} characters long.")
    if not text.strip():
        return _text_issue("invalid_json" if format == "json" else "invalid_yaml", "The definition is empty.")
    if format == "yaml":
        return _load_yaml(text)
    return _load_json(text)


def _load_json(text: str) -> tuple[Any, list[Issue]]:
    try:
        value = json.loads(text, object_pairs_hook=_object_from_pairs, parse_constant=_reject_constant)
    except RecursionError:
        return _text_issue("too_deep", "The definition is nested too deeply to be read.")
    except json.JSONDecodeError as exc:
        return _text_issue(
            "invalid_json", f"The definition is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        )
    except (ValueError, MemoryError) as exc:
        return _text_issue("invalid_json", f"The definition is not valid JSON: {exc}.")
    return value, []


def _yaml_loader() -> Any:
    import yaml

    class SafeNoAliasLoader(yaml.SafeLoader):
        """``yaml.SafeLoader`` that refuses aliases (so no exponential expansion) and keeps duplicates visible."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, "aliases (*name) are not allowed in a definition", event.start_mark
                )
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            pairs = self.construct_pairs(node, deep=deep)
            return _object_from_pairs(pairs)

    SafeNoAliasLoader.add_constructor(
        "tag:yaml.org,2002:map",
        lambda loader, node: loader.construct_mapping(node, deep=True),
    )
    return SafeNoAliasLoader


def _load_yaml(text: str) -> tuple[Any, list[Issue]]:
    try:
        import yaml

        value = yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        return _text_issue("too_deep", "The definition is nested too deeply to be read.")
    except Exception as exc:  # PyYAML raises many types; any failure means unreadable text
        problem = " ".join(str(exc).split()) or type(exc).__name__
        return _text_issue("invalid_yaml", f"The definition is not valid YAML: {problem[:300]}.")
    return value, []
