"""CronJob schedules: what parses as robfig/cron's ParseStandard parses, and their times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from podwall.controllers import cronschedule

AT = datetime(2026, 12, 7, 6, 42, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        pytest.param("*/5 * * * *", None, id="five fields"),
        pytest.param("@hourly", None, id="a descriptor"),
        pytest.param("@every 1m", None, id="@every passes (it is not run)"),
        pytest.param("*/1", "expected exactly 5 fields, found 1: [*/1]", id="one field"),
        pytest.param("0 0 * * * *", "expected exactly 5 fields, found 6: [0 0 * * * *]",
                     id="six fields: seconds are not standard"),
        pytest.param("@fortnightly", "unrecognized descriptor: @fortnightly", id="unknown"),
    ],
)  # fmt: skip
def test_what_parses(schedule: str, problem: str | None) -> None:
    assert cronschedule.check(schedule) == problem


def test_a_value_out_of_range_does_not_parse() -> None:
    assert cronschedule.check("61 * * * *") is not None


@pytest.mark.parametrize(
    ("schedule", "zone", "previous", "following"),
    [
        pytest.param("*/5 * * * *", None, "06:40", "06:45", id="every five minutes"),
        pytest.param("@hourly", None, "06:00", "07:00", id="hourly"),
        pytest.param("30 7 * * *", "Europe/Paris", "06:30", "06:30+1d",
                     id="07:30 in Paris is 06:30 UTC in December"),
    ],
)  # fmt: skip
def test_previous_and_next_times(
    schedule: str, zone: str | None, previous: str, following: str
) -> None:
    parsed = cronschedule.parse(schedule, zone)

    def at(text: str) -> datetime:
        clock, _, days = text.partition("+")
        hour, minute = (int(x) for x in clock.split(":"))
        return AT.replace(day=AT.day + int(days.rstrip("d") or 0), hour=hour, minute=minute,
                          second=0)  # fmt: skip

    assert parsed.previous(AT) == at(previous)
    assert parsed.next(AT) == at(following)


def test_a_time_on_the_schedule_is_its_own_previous() -> None:
    on_time = AT.replace(minute=45, second=0)
    assert cronschedule.parse("*/5 * * * *", None).previous(on_time) == on_time


def test_an_unknown_zone_is_named() -> None:
    with pytest.raises(cronschedule.ScheduleError, match="unknown time zone Mars/Base"):
        cronschedule.zone_of("Mars/Base")
