"""Definitions: from a dict, JSON text or YAML text to a tree of typed states.

``parse_definition`` validates first (``validate``) and raises one
``DefinitionError`` with every issue; a valid definition becomes a
``StateMachine`` whose states have compiled their paths, templates, intrinsic
calls and choice rules. The tree is built once per definition and shared by
every execution that uses it: nothing in it changes while machines run.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .states.base import State
from .states.choice import ChoiceState
from .states.fail import FailState
from .states.map import MapState
from .states.message import MessageState
from .states.parallel import ParallelState
from .states.pass_ import PassState
from .states.succeed import SucceedState
from .states.task import TaskState
from .states.wait import WaitState

STATE_TYPES: dict[str, type[State]] = {
    cls.type: cls
    for cls in (PassState, TaskState, ChoiceState, WaitState, SucceedState, FailState, ParallelState, MapState,
                MessageState)  # Message: a django-asl extension (asl/states/message.py)
}


class StateMachine:
    """A parsed (sub-)machine: ``start_at``, ``states`` by name, and top-level settings.

    Parallel branches and Map item processors are ``StateMachine`` objects too.
    """

    def __init__(self, raw: dict, *, query_language: str | None = None) -> None:
        self.raw = raw
        self.comment = raw.get("Comment")
        self.start_at: str = raw["StartAt"]
        self.timeout_seconds: int | None = raw.get("TimeoutSeconds")
        self.query_language: str = raw.get("QueryLanguage", query_language or "JSONPath")
        language = self.query_language

        def build(sub: dict) -> StateMachine:
            return StateMachine(sub, query_language=language)

        build.query_language = language  # type: ignore[attr-defined]  # read by State.__init__
        self.states: dict[str, State] = {
            name: STATE_TYPES[state["Type"]](name, state, build) for name, state in raw["States"].items()
        }

    def __repr__(self) -> str:
        return f"<StateMachine start_at={self.start_at!r} states={len(self.states)}>"

    def walk(self):
        """Yield every state of this machine and of its branches and processors."""
        for state in self.states.values():
            yield state
            for sub in getattr(state, "branches", ()):
                yield from sub.walk()
            processor = getattr(state, "processor", None)
            if processor is not None:
                yield from processor.walk()


_CACHE: OrderedDict[int, tuple[Any, StateMachine]] = OrderedDict()
_CACHE_SIZE = 64


def text_format(text: str | bytes) -> str:
    """Return ``"json"`` for text that opens with ``{``, else ``"yaml"``."""
    head = text.lstrip()[:1] if isinstance(text, str) else bytes(text).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in ("{", b"{") else "yaml"


def parse_definition(definition: Any, *, format: str | None = None) -> StateMachine:
    """Return the ``StateMachine`` for ``definition`` (a dict, JSON or YAML text, or a StateMachine).

    Text is read as JSON when it opens with ``{`` and as YAML otherwise, unless
    ``format`` ("json" or "yaml") says. Raise ``DefinitionError`` listing every
    issue when it is not valid. The same dict given again (and unchanged)
    returns the machine built before.
    """
    if isinstance(definition, StateMachine):
        return definition
    if isinstance(definition, dict):
        cached = _CACHE.get(id(definition))
        if cached is not None and cached[0] == definition:
            _CACHE.move_to_end(id(definition))
            return cached[1]
    from .validation import load_definition

    if format is None and isinstance(definition, (str, bytes, bytearray)):
        format = text_format(definition)
    snapshot = load_definition(definition, format=format or "json")
    machine = StateMachine(snapshot)
    if isinstance(definition, dict):
        _CACHE[id(definition)] = (snapshot, machine)
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return machine
