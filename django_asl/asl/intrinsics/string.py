"""String intrinsics: States.StringSplit."""
from __future__ import annotations

import re
from functools import lru_cache

from .registry import STRING, intrinsic


@lru_cache(maxsize=256)
def _splitter(delimiters: str) -> re.Pattern:
    return re.compile("[" + re.escape(delimiters) + "]+")


@intrinsic("States.StringSplit", STRING, STRING)
def states_string_split(text: str, delimiters: str) -> list:
    """Split ``text`` at every character of ``delimiters``; return the non-empty pieces.

    Each character of the second argument is a delimiter on its own
    (``StringSplit('This.is+a,test=string', '.+,=')`` gives five words), and
    empty pieces are dropped (``', , ,'`` split at ``','`` gives ``[' ', ' ']``),
    as Java's ``StringTokenizer`` does. An empty delimiter string leaves the
    text whole (``[]`` for empty text).
    """
    if not delimiters:
        return [text] if text else []
    return [piece for piece in _splitter(delimiters).split(text) if piece]
