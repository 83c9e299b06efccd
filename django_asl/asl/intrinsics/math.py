"""Math intrinsics: States.MathRandom and States.MathAdd.

Step Functions runs on the JVM: MathAdd rounds its arguments half up
(``Math.round``: 2.5 -> 3, -2.5 -> -2) and works on 32-bit integers; MathRandom
truncates its bounds and, given a seed, draws from ``java.util.Random(seed)``,
which this module reproduces so a seeded call gives the same number on every run.
"""
from __future__ import annotations

from typing import Any

from .registry import INT_MAX, INT_MIN, NUMBER, UNKNOWN, InvalidArguments, intrinsic, java_int, java_round

_MULTIPLIER = 0x5DEECE66D
_MASK = (1 << 48) - 1


class JavaRandom:
    """The linear congruential generator of ``java.util.Random``, enough for ``nextInt(bound)``."""

    __slots__ = ("_seed",)

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ _MULTIPLIER) & _MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * _MULTIPLIER + 0xB) & _MASK
        value = self._seed >> (48 - bits)
        return value - (1 << 32) if value >= 1 << 31 else value

    def next_int(self, bound: int) -> int:
        """Return an int in ``[0, bound)``, exactly as ``Random.nextInt(bound)`` does."""
        bits = self._next(31)
        if bound & (bound - 1) == 0:
            return (bound * bits) >> 31
        value = bits % bound
        # Java rejects draws from the incomplete last block: `bits - value + (bound - 1) < 0` in int arithmetic.
        while bits - value + (bound - 1) >= 1 << 31:
            bits = self._next(31)
            value = bits % bound
        return value


def _check_random(args: list) -> str | None:
    start, end = args[0], args[1]
    if start is not UNKNOWN and end is not UNKNOWN and java_int(start.value) >= java_int(end.value):
        return "the start of States.MathRandom must be less than its end."
    return None


@intrinsic("States.MathRandom", NUMBER, NUMBER, NUMBER, optional=1, uses_env=True, static_check=_check_random)
def states_math_random(env: Any, start: int | float, end: int | float, seed: int | float | None = None) -> int:
    """Return a random integer from ``start`` (inclusive) to ``end`` (exclusive).

    Handles: non-integer bounds (truncated); the optional seed, which makes the
    result repeatable; without a seed the number comes from ``env.random()``.
    ``start`` not below ``end``, or bounds outside 32-bit integers, fail with
    "Invalid arguments in States.MathRandom".
    """
    low, high = java_int(start), java_int(end)
    if low >= high or low < INT_MIN or high > INT_MAX:
        raise InvalidArguments
    span = high - low
    if seed is not None:
        generator = JavaRandom(java_int(seed))
        if span > INT_MAX:
            return low + int(generator._next(31) / (1 << 31) * span)
        return low + generator.next_int(span)
    return low + int(env.random() * span)


@intrinsic("States.MathAdd", NUMBER, NUMBER)
def states_math_add(first: int | float, second: int | float) -> int:
    """Return the sum of two numbers, each first rounded half up to an integer.

    Handles: integers and decimals (1.5 + 1.51 is 2 + 2 = 4; -1.5 + 0 is -1);
    values or a sum outside the 32-bit integer range fail with "Invalid
    arguments in States.MathAdd".
    """
    first, second = java_round(first), java_round(second)
    total = first + second
    if not (INT_MIN <= first <= INT_MAX and INT_MIN <= second <= INT_MAX and INT_MIN <= total <= INT_MAX):
        raise InvalidArguments
    return total
