"""Array intrinsics: States.Array, ArrayPartition, ArrayContains, ArrayRange, ArrayGetItem, ArrayLength, ArrayUnique.

Numeric arguments that are not whole numbers are truncated toward zero, as
Step Functions does (``States.ArrayRange(1.6, 1.4, 1)`` is ``[1]``).
"""
from __future__ import annotations

from typing import Any

from .json_ import json_equal, json_key
from .registry import ANY, ARRAY, NUMBER, UNKNOWN, InvalidArguments, intrinsic, java_int

# Spec: "The States.ArrayRange function ... the array can contain up to 1000 items."
MAX_RANGE_ITEMS = 1000


@intrinsic("States.Array", variadic=True)
def states_array(*values: Any) -> list:
    """Return the arguments as an array, in order; with no arguments, ``[]``."""
    return list(values)


def _check_partition(args: list) -> str | None:
    size = args[1]
    if size is not UNKNOWN and java_int(size.value) <= 0:
        return "the chunk size of States.ArrayPartition must be a positive integer."
    return None


@intrinsic("States.ArrayPartition", ARRAY, NUMBER, static_check=_check_partition)
def states_array_partition(array: list, size: int | float) -> list:
    """Return ``array`` cut into chunks of ``size`` items; the last chunk may be shorter.

    Handles: an empty array (``[]``); a size larger than the array (one chunk);
    a size below 1 after truncation fails with "Invalid arguments in
    States.ArrayPartition".
    """
    size = java_int(size)
    if size <= 0:
        raise InvalidArguments
    return [array[start:start + size] for start in range(0, len(array), size)]


@intrinsic("States.ArrayContains", ARRAY, ANY)
def states_array_contains(array: list, value: Any) -> bool:
    """Return whether ``array`` holds an item JSON-equal to ``value`` (deep equality; ``true`` is not ``1``)."""
    return any(json_equal(item, value) for item in array)


def _range_length(start: int, end: int, step: int) -> int:
    if (step > 0 and start > end) or (step < 0 and start < end):
        return 0
    return (end - start) // step + 1


def _check_range(args: list) -> str | None:
    start, end, step = args
    if step is UNKNOWN:
        return None
    step_value = java_int(step.value)
    if step_value == 0:
        return "the step of States.ArrayRange must not be 0."
    if start is not UNKNOWN and end is not UNKNOWN:
        length = _range_length(java_int(start.value), java_int(end.value), step_value)
        if length > MAX_RANGE_ITEMS:
            return f"States.ArrayRange would make {length} items; at most {MAX_RANGE_ITEMS} are allowed."
    return None


@intrinsic("States.ArrayRange", NUMBER, NUMBER, NUMBER, static_check=_check_range)
def states_array_range(start: int | float, end: int | float, step: int | float) -> list:
    """Return ``[start, start + step, ...]`` up to and including ``end``.

    Handles: positive and negative steps; bounds in the wrong direction for the
    step (``[]``); equal bounds (``[start]``). A step of 0, or a range of more
    than 1000 items, fails with "Invalid arguments in States.ArrayRange".
    """
    start, end, step = java_int(start), java_int(end), java_int(step)
    if step == 0 or _range_length(start, end, step) > MAX_RANGE_ITEMS:
        raise InvalidArguments
    return list(range(start, end + (1 if step > 0 else -1), step))


@intrinsic("States.ArrayGetItem", ARRAY, NUMBER)
def states_array_get_item(array: list, index: int | float) -> Any:
    """Return the item of ``array`` at zero-based ``index``.

    Handles: an index that is negative, not a whole number, or not below the
    array's length fails with "Invalid arguments in States.ArrayGetItem".
    """
    if type(index) is float:
        if not index.is_integer():
            raise InvalidArguments
        index = int(index)
    if index < 0 or index >= len(array):
        raise InvalidArguments
    return array[index]


@intrinsic("States.ArrayLength", ARRAY)
def states_array_length(array: list) -> int:
    """Return the number of items in ``array``."""
    return len(array)


@intrinsic("States.ArrayUnique", ARRAY)
def states_array_unique(array: list) -> list:
    """Return ``array`` without repeated items, keeping each first occurrence in order.

    Items compare by JSON equality: ``{"a": 1}`` repeats ``{"a": 1}``, but
    ``true`` does not repeat ``1``.
    """
    seen: set = set()
    unique = []
    for item in array:
        key = json_key(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique
