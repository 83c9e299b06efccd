"""Timestamps as the Amazon States Language accepts them.

Choice rules (``Timestamp...`` operators, ``IsTimestamp``) and Wait states
(``Timestamp``, ``TimestampPath``) read timestamps from JSON strings. The spec
("Choice Rules", "Wait State") says: "Timestamps MUST conform to the RFC3339
profile of ISO 8601, with the further restrictions that an uppercase 'T'
character MUST be used to separate date and time, and an uppercase 'Z'
character MUST be present in the absence of a numeric time zone offset, for
example '2016-03-14T01:59:00Z'."

What this module accepts, and why:

* ``YYYY-MM-DDTHH:MM:SS``, then an optional fraction of 1 to 9 digits, then
  ``Z`` or a numeric offset ``+HH:MM`` / ``-HH:MM``. AWS reports rejected
  values as not being "a valid ISO-8601 extended offset date-time format
  string", the wording of Java's ``ISO_OFFSET_DATE_TIME``, which reads at
  most nine fraction digits (nanoseconds) and offsets up to ``+18:00``.
* Seconds are required and ``T``/``Z`` must be uppercase (RFC 3339 and the
  spec sentence above), so ``2016-12-05 21:29:29Z`` (no ``T``) and
  ``2016-12-05T21:29:29`` (no ``Z``) are rejected, as AWS rejects them.
* Fields are range-checked strictly: month 1-12, a day that exists in that
  month (leap years included), hour 0-23, minute and second 0-59 (no leap
  second, no ``24:00``), as a strict ISO parser does. ``2016-13-05T...`` and
  ``...T25:29:29Z`` are rejected, as AWS rejects them.

Two readings of a timestamp are offered: ``parse_timestamp`` returns an aware
``datetime`` in UTC (microsecond precision, for the Wait state), and
``timestamp_key`` returns whole seconds since the epoch plus nanoseconds, which
keeps AWS's nanosecond precision and never overflows; Choice rules compare keys.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?"
    r"(?:Z|([+-])([0-9]{2}):([0-9]{2}))"
)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MAX_OFFSET_MINUTES = 18 * 60  # java.time.ZoneOffset allows -18:00 to +18:00
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Return the number of days from 1970-01-01 to the given proleptic Gregorian date."""
    # Howard Hinnant's days_from_civil: exact for every year, no datetime range limits.
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def timestamp_key(value: Any) -> tuple[int, int] | None:
    """Return ``(seconds since the epoch, nanoseconds)`` for a timestamp string, else None.

    Keys of two timestamps compare as the instants they denote, whatever their
    offsets, with nanosecond precision. Any value that is not a string, or a
    string that is not a timestamp AWS accepts (see the module docstring),
    gives None; this function never raises.
    """
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(group) for group in match.group(1, 2, 3, 4, 5, 6))
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        return None
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1] + (month == 2 and leap):
        return None
    fraction, sign, offset_hours, offset_minutes = match.group(7, 8, 9, 10)
    offset = 0
    if sign is not None:
        if int(offset_minutes) > 59:
            return None
        offset = int(offset_hours) * 60 + int(offset_minutes)
        if offset > _MAX_OFFSET_MINUTES:
            return None
        if sign == "-":
            offset = -offset
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + (minute - offset) * 60 + second
    nanoseconds = int(fraction.ljust(9, "0")) if fraction else 0
    return seconds, nanoseconds


def parse_timestamp(value: Any) -> datetime | None:
    """Return the moment a timestamp string denotes, as an aware UTC datetime, else None.

    Handles: ``Z`` and numeric offsets (converted to UTC); fractions of 1 to 9
    digits (truncated to microseconds). Gives None, and never raises, for
    non-strings, for strings AWS rejects (no ``T``, no ``Z`` or offset,
    impossible dates or times, lowercase ``t``/``z``, more than nine fraction
    digits), and for moments outside the range of ``datetime`` (years 1-9999
    in UTC).
    """
    key = timestamp_key(value)
    if key is None:
        return None
    seconds, nanoseconds = key
    try:
        return _EPOCH + timedelta(seconds=seconds, microseconds=nanoseconds // 1000)
    except OverflowError:
        return None


def is_timestamp(value: Any) -> bool:
    """Return whether ``value`` is a string holding a timestamp AWS accepts (``IsTimestamp``)."""
    return timestamp_key(value) is not None
