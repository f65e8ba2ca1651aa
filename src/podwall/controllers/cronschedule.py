"""A CronJob's schedule: checked as `cron.ParseStandard` checks it, and its times, by croniter.

Upstream parses schedules with robfig/cron: five fields (minute, hour, day of month, month,
day of week) or a descriptor (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
`@midnight`, `@hourly`, `@every <duration>`), read in `spec.timeZone` (default UTC, as
kube-controller-manager's own zone is here). The times come from croniter, a maintained
cron library; podwall does not parse cron expressions itself. Not done: `@every` (accepted,
as upstream accepts it, but never due: `times` says so) and a `TZ=`/`CRON_TZ=` prefix, which
validation refuses for new objects as upstream does. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterError, croniter

from podwall.errors import PodwallError

DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
EVERY = "@every "


class ScheduleError(PodwallError, ValueError):
    """The schedule does not parse; the message is what upstream says (or croniter's)."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed five-field schedule in its time zone."""

    expression: str
    zone: tzinfo

    def previous(self, now: datetime) -> datetime:
        """The latest scheduled time at or before `now` (croniter's is strictly before its
        start, so it starts a microsecond later)."""
        start = now.astimezone(self.zone) + timedelta(microseconds=1)
        return croniter(self.expression, start).get_prev(datetime).astimezone(UTC)

    def next(self, now: datetime) -> datetime:
        """The first scheduled time after `now`."""
        return (
            croniter(self.expression, now.astimezone(self.zone)).get_next(datetime).astimezone(UTC)
        )


def expression_of(schedule: str) -> str:
    """The five fields a schedule stands for; ScheduleError when it is not one."""
    text = schedule.strip()
    if text.startswith("@"):
        if text.startswith(EVERY):
            raise ScheduleError("@every schedules are not run by podwall")
        if text in DESCRIPTORS:
            return DESCRIPTORS[text]
        raise ScheduleError(f"unrecognized descriptor: {text}")
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    expression = " ".join(fields)
    try:
        croniter(expression)
    except (CroniterBadCronError, CroniterError) as exc:
        raise ScheduleError(str(exc)) from exc
    return expression


def check(schedule: str) -> str | None:
    """What is wrong with `schedule` for validation (None: it parses). `@every` passes."""
    if schedule.strip().startswith(EVERY):
        return None
    try:
        expression_of(schedule)
    except ScheduleError as exc:
        return str(exc)
    return None


def zone_of(name: str | None) -> tzinfo:
    """`spec.timeZone`: an IANA name; UTC when unset. ScheduleError for an unknown zone."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone {name}") from exc


def parse(schedule: str, time_zone: str | None) -> Schedule:
    return Schedule(expression_of(schedule), zone_of(time_zone))
