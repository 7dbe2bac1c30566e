"""IsoClock: JavaScript's Date.toISOString text, the date and time part cached per second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from backstage_runtime._iso_time import IsoClock

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def reference(ns: int) -> str:
    # What datetime.now(UTC) makes of the clock (microseconds, rounded down), then isoformat.
    moment = EPOCH + timedelta(microseconds=ns // 1000)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@given(st.lists(st.integers(min_value=0, max_value=4_102_444_800 * 10**9), max_size=20))
def test_every_time_is_written_as_datetime_writes_it(times: list[int]) -> None:
    clock = IsoClock()

    # One clock for the whole list: the cached second must never leak into another second.
    assert [clock.format_ns(ns) for ns in times] == [reference(ns) for ns in times]


def test_times_around_a_second_boundary() -> None:
    clock = IsoClock()
    second = 1_714_979_289 * 10**9

    written = [clock.format_ns(second + offset) for offset in (-1, 0, 999_999, 1_000_000, 10**9)]

    assert written == [
        "2024-05-06T07:08:08.999Z",
        "2024-05-06T07:08:09.000Z",
        "2024-05-06T07:08:09.000Z",
        "2024-05-06T07:08:09.001Z",
        "2024-05-06T07:08:10.000Z",
    ]


def test_now_reads_the_given_clock() -> None:
    assert IsoClock(lambda: 1_714_979_289_005_432_100).now() == "2024-05-06T07:08:09.005Z"


def test_now_is_the_system_time_by_default() -> None:
    before = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    now = IsoClock().now()
    after = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    assert before <= now <= after
