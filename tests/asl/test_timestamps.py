"""Tests for django_asl.asl.timestamps: which strings are timestamps, and what they mean."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_asl.asl.timestamps import is_timestamp, parse_timestamp, timestamp_key

UTC = timezone.utc


@pytest.mark.parametrize(
    "text, expected",
    [
        # the spec's example
        ("2016-03-14T01:59:00Z", datetime(2016, 3, 14, 1, 59, 0, tzinfo=UTC)),
        # milliseconds, as Step Functions writes them
        ("2016-03-14T01:59:00.123Z", datetime(2016, 3, 14, 1, 59, 0, 123000, tzinfo=UTC)),
        # a single fraction digit
        ("2016-03-14T01:59:00.5Z", datetime(2016, 3, 14, 1, 59, 0, 500000, tzinfo=UTC)),
        # two fraction digits (AWS accepts ".00Z" in a Wait TimestampPath)
        ("2016-03-14T01:59:00.00Z", datetime(2016, 3, 14, 1, 59, 0, tzinfo=UTC)),
        # microseconds
        ("2016-03-14T01:59:00.000001Z", datetime(2016, 3, 14, 1, 59, 0, 1, tzinfo=UTC)),
        # nanoseconds, accepted by AWS (wait_timestamp NANOSECONDS), truncated to microseconds
        ("2016-03-05T21:29:29.243167252Z", datetime(2016, 3, 5, 21, 29, 29, 243167, tzinfo=UTC)),
        # a positive offset is converted to UTC
        ("2012-10-09T19:00:55+01:00", datetime(2012, 10, 9, 18, 0, 55, tzinfo=UTC)),
        # a negative offset with minutes
        ("2012-10-09T19:00:55-05:30", datetime(2012, 10, 10, 0, 30, 55, tzinfo=UTC)),
        # a zero offset is the same as Z
        ("2012-10-09T19:00:55+00:00", datetime(2012, 10, 9, 19, 0, 55, tzinfo=UTC)),
        # "-00:00" is also a zero offset
        ("2012-10-09T19:00:55-00:00", datetime(2012, 10, 9, 19, 0, 55, tzinfo=UTC)),
        # the largest offset java.time accepts
        ("2012-10-09T19:00:55+18:00", datetime(2012, 10, 9, 1, 0, 55, tzinfo=UTC)),
        # an offset moves the moment across a day, month and year boundary
        ("2000-01-01T00:30:00+01:00", datetime(1999, 12, 31, 23, 30, tzinfo=UTC)),
        # 29 February in a leap year
        ("2024-02-29T12:00:00Z", datetime(2024, 2, 29, 12, tzinfo=UTC)),
        # 29 February in a year divisible by 400
        ("2000-02-29T12:00:00Z", datetime(2000, 2, 29, 12, tzinfo=UTC)),
        # the last second of a day
        ("2016-12-31T23:59:59Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        # the earliest moment datetime can hold
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        # the latest moment datetime can hold
        ("9999-12-31T23:59:59.999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_accepts(text, expected):
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC
    assert is_timestamp(text)


@pytest.mark.parametrize(
    "value",
    [
        # no "Z" and no offset: AWS fails the Wait state (wait_timestamp NO_Z)
        "2016-12-05T21:29:29",
        # a space instead of "T" (wait_timestamp NO_T)
        "2016-12-05 21:29:29Z",
        # month 13 (wait_timestamp INVALID_DATE)
        "2016-13-05T21:29:29Z",
        # hour 25 (wait_timestamp INVALID_TIME)
        "2016-12-05T25:29:29Z",
        # day first (wait_timestamp INVALID_ISO)
        "05-12-2016T21:29:29Z",
        # fraction without "Z" (AWS rejects ".000000" in a Wait TimestampPath)
        "2016-12-05T21:29:29.000000",
        # lowercase "t": the spec requires an uppercase T
        "2016-12-05t21:29:29Z",
        # lowercase "z": the spec requires an uppercase Z
        "2016-12-05T21:29:29z",
        # no seconds: RFC 3339 requires them
        "2016-12-05T21:29Z",
        # a date alone
        "2023-02-24",
        # a date and time with a space and microseconds, as Python's str(datetime) writes them
        "2023-02-24 12:15:56.832957",
        # month 00
        "2016-00-05T21:29:29Z",
        # day 00
        "2016-12-00T21:29:29Z",
        # 31 April
        "2016-04-31T21:29:29Z",
        # 29 February in a common year
        "2023-02-29T12:00:00Z",
        # 29 February in a century year not divisible by 400
        "1900-02-29T12:00:00Z",
        # 24:00 is not a time of day for a strict parser
        "2016-12-05T24:00:00Z",
        # minute 60
        "2016-12-05T21:60:29Z",
        # a leap second
        "2016-12-31T23:59:60Z",
        # a decimal point without digits
        "2016-12-05T21:29:29.Z",
        # ten fraction digits: more than nanoseconds
        "2016-12-05T21:29:29.1234567890Z",
        # both Z and an offset
        "2016-12-05T21:29:29Z+01:00",
        # an offset without a colon
        "2016-12-05T21:29:29+0100",
        # an offset with hours only
        "2016-12-05T21:29:29+01",
        # an offset with seconds
        "2016-12-05T21:29:29+01:00:00",
        # an offset beyond java.time's +18:00
        "2016-12-05T21:29:29+18:01",
        # an offset with minute 60
        "2016-12-05T21:29:29+01:60",
        # one-digit month and day
        "2016-1-5T21:29:29Z",
        # a five-digit year
        "12016-12-05T21:29:29Z",
        # a signed year
        "+2016-12-05T21:29:29Z",
        # leading whitespace
        " 2016-12-05T21:29:29Z",
        # trailing newline
        "2016-12-05T21:29:29Z\n",
        # non-ASCII digits
        "２０１６-12-05T21:29:29Z",
        # the empty string
        "",
        # not a string: a number
        1457920740,
        # not a string: a float
        1.5,
        # not a string: null
        None,
        # not a string: a boolean
        True,
        # not a string: a list holding a timestamp
        ["2016-03-14T01:59:00Z"],
        # not a string: an object
        {"Timestamp": "2016-03-14T01:59:00Z"},
        # not a string: already a datetime
        datetime(2016, 3, 14, tzinfo=UTC),
        # not a string: bytes
        b"2016-03-14T01:59:00Z",
    ],
)
def test_parse_timestamp_rejects(value):
    assert parse_timestamp(value) is None
    assert not is_timestamp(value)
    assert timestamp_key(value) is None


@pytest.mark.parametrize(
    "text",
    [
        # year 0000 is a valid ISO 8601 year, but not a datetime
        "0000-06-15T00:00:00Z",
        # in UTC this is year 10000
        "9999-12-31T23:59:59-01:00",
        # in UTC this is year 0
        "0001-01-01T00:00:00+01:00",
    ],
)
def test_out_of_datetime_range_is_a_timestamp_but_not_a_datetime(text):
    assert is_timestamp(text)
    assert parse_timestamp(text) is None


@pytest.mark.parametrize(
    "earlier, later",
    [
        # one nanosecond apart: keys keep what datetime would lose
        ("2016-03-14T01:59:00.000000001Z", "2016-03-14T01:59:00.000000002Z"),
        # the same second, with and without a fraction
        ("2016-03-14T01:59:00Z", "2016-03-14T01:59:00.000000001Z"),
        # an offset makes the "later-looking" local time the earlier instant
        ("2016-03-14T02:00:00+01:00", "2016-03-14T01:30:00Z"),
        # across the epoch
        ("1969-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z"),
        # far apart
        ("0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"),
    ],
)
def test_timestamp_key_orders_instants(earlier, later):
    assert timestamp_key(earlier) < timestamp_key(later)


@pytest.mark.parametrize(
    "one, other",
    [
        # the same instant in two offsets
        ("2012-10-09T19:00:55+01:00", "2012-10-09T18:00:55Z"),
        # trailing fraction zeros do not matter
        ("2012-10-09T19:00:55.100Z", "2012-10-09T19:00:55.1Z"),
        # a zero fraction is a whole second
        ("2012-10-09T19:00:55.000000000Z", "2012-10-09T19:00:55Z"),
    ],
)
def test_timestamp_key_equal_instants(one, other):
    assert timestamp_key(one) == timestamp_key(other)


def test_timestamp_key_of_the_epoch():
    assert timestamp_key("1970-01-01T00:00:00Z") == (0, 0)
    assert timestamp_key("1970-01-01T00:00:01.5Z") == (1, 500_000_000)


_moments = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.just(UTC),
)


def _step_functions_text(moment):
    # strftime("%Y") does not pad years below 1000 on every platform.
    return f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}Z"


@given(_moments)
def test_round_trip_through_step_functions_format(moment):
    assert parse_timestamp(_step_functions_text(moment)) == moment


@given(_moments, st.integers(min_value=-18 * 60, max_value=18 * 60))
def test_round_trip_with_offset(moment, offset_minutes):
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    text = local.isoformat()  # "T", seconds, an optional fraction and a "+HH:MM" offset
    assert parse_timestamp(text) == moment


@given(_moments, _moments)
def test_keys_order_like_datetimes(one, other):
    key_one, key_other = timestamp_key(_step_functions_text(one)), timestamp_key(_step_functions_text(other))
    assert (key_one < key_other) == (one < other)
    assert (key_one == key_other) == (one == other)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=8,
)


@given(_json | st.binary() | st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,12})?(Z|[+-][0-9]{2}:[0-9]{2})?"))
def test_never_raises(value):
    parsed = parse_timestamp(value)
    assert parsed is None or parsed.tzinfo is UTC
    assert is_timestamp(value) == (timestamp_key(value) is not None)
