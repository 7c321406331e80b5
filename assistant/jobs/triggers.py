"""When jobs are due: reading `at`/`every`/`cron` triggers, due times in a job's timezone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal, Protocol, cast
from zoneinfo import ZoneInfo

from assistant.jobs.cron import CronExpr, next_wall_match, parse_cron

TriggerKind = Literal["at", "every", "cron"]
MIN_INTERVAL_S = 60
MAX_INTERVAL_S = 366 * 86_400
_UNIT_S = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_EVERY = re.compile(r"(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?", re.A)


class TriggerError(ValueError):
    """A trigger that cannot be scheduled; the message says precisely what is wrong."""


@dataclass(frozen=True)
class TriggerSpec:
    """A validated trigger. `value` is normalised: an aware ISO 8601 instant in `timezone` for
    `at`, a compact interval like `1h30m` for `every`, a lower-case 5-field expression for `cron`.
    `anchor_at` is the job's creation instant: intervals count from it, and no due time precedes it.
    """

    kind: TriggerKind
    value: str
    timezone: str
    anchor_at: datetime


class Triggered(Protocol):
    """A row that carries a trigger: a job, or the scheduler's light copy of one."""

    @property
    def trigger_kind(self) -> str: ...
    @property
    def trigger_value(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def anchor_at(self) -> datetime: ...


def spec_of(row: Triggered) -> TriggerSpec:
    """The row's trigger, as the pure due-time functions take it."""
    return TriggerSpec(cast(TriggerKind, row.trigger_kind), row.trigger_value, row.timezone, row.anchor_at)


def parse_trigger(
    at: str | None, every: str | None, cron: str | None, timezone: str, now: datetime
) -> TriggerSpec:
    """Validate exactly one of `at`, `every`, `cron` and the IANA `timezone`, anchored at `now`.

    A naive `at` is read in `timezone` (by the DST policy above); `at` must be after `now`.
    Raises TriggerError, and nothing else, with a message fit for the model to read.
    """
    given = {kind: text for kind, text in (("at", at), ("every", every), ("cron", cron)) if text}
    if len(given) != 1:
        named = ", ".join(given) or "none"
        raise TriggerError(f"give exactly one of at, every or cron (got {named})")
    zone = _zone(timezone)
    if at:
        return TriggerSpec("at", _parse_at(at, zone, now), timezone, now)
    if every:
        return TriggerSpec("every", _format_interval(_parse_every(every)), timezone, now)
    assert cron is not None
    try:
        expr = parse_cron(cron)
    except ValueError as exc:
        raise TriggerError(str(exc)) from None
    return TriggerSpec("cron", expr.text, timezone, now)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):  # KeyError covers ZoneInfoNotFoundError
        raise TriggerError(f"{name!r} is not a known IANA timezone (use a name like Europe/Berlin)") from None


def _parse_at(text: str, zone: ZoneInfo, now: datetime) -> str:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TriggerError(f"at {text!r} is not an ISO 8601 date and time like 2026-11-27T08:00") from None
    if "T" not in text.upper() and " " not in text.strip():
        raise TriggerError(f"at {text!r} has a date but no time of day")
    try:
        due_at = resolve_wall(parsed, zone) if parsed.tzinfo is None else parsed.astimezone(UTC)
        if due_at <= now:
            raise TriggerError(f"at {text!r} is in the past (now is {now.astimezone(zone).isoformat()})")
        return due_at.astimezone(zone).isoformat()
    except OverflowError:
        raise TriggerError(f"at {text!r} is out of range") from None


def _parse_every(text: str) -> int:
    compact = "".join(text.lower().split())
    match = _EVERY.fullmatch(compact)
    if not compact or match is None:
        raise TriggerError(f"every {text!r} is not an interval like 30m, 2h, 1d, 90s, 1w or 1h30m")
    interval_s = sum(int(n) * s for n, s in zip(match.groups(), _UNIT_S.values(), strict=True) if n)
    if interval_s < MIN_INTERVAL_S:
        raise TriggerError(f"every {text!r} is shorter than the minimum of 1m")
    if interval_s > MAX_INTERVAL_S:
        raise TriggerError(f"every {text!r} is longer than the maximum of 366d")
    return interval_s


def _format_interval(interval_s: int) -> str:
    parts = []
    for unit, unit_s in _UNIT_S.items():
        count, interval_s = divmod(interval_s, unit_s)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def interval_s(spec: TriggerSpec) -> int:
    """The length of an `every` trigger in seconds."""
    return _parse_every(spec.value)


def resolve_wall(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant (UTC) that naive wall time `wall` in `zone` stands for, by Hearth's DST policy.

    The policy, the same for cron and for a naive `at`: a wall time that does not exist (clocks
    spring forward over it) is due at the first instant after the gap, once: 02:30 in
    Europe/Berlin on 2026-03-29 is due at 03:00 CEST, and 02:00, 02:30 and 03:00 that day are one
    due time. A wall time that occurs twice (clocks fall back) is due once, at its first
    occurrence: 02:30 on 2026-10-25 is due at 02:30 CEST, never at 02:30 CET. So hourly and finer
    cron jobs pause during a repeated hour rather than fire twice. (APScheduler 3.11's own
    CronTrigger differs on both counts: it fires the skipped 02:30 at 03:30 CEST and the repeated
    02:30 twice.) `every` is not affected: intervals are real elapsed time from creation, so
    `every 1d` is 24 hours and moves by an hour of local time across a change.
    """
    first = wall.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return first.astimezone(UTC)  # normal, or the first of two occurrences
    return _gap_end(wall, zone)


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    # Inside a gap, fold=1 reads the wall time with the offset after the change (an instant before
    # it) and fold=0 with the offset before (an instant after it): bisect to the change itself.
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(wall.replace(tzinfo=zone, fold=0).timestamp())
    after_offset = datetime.fromtimestamp(high, zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def next_run(spec: TriggerSpec, after: datetime) -> datetime | None:
    """The first due time strictly after `after` (and after `spec.anchor_at`), in UTC.

    None when there is none: an `at` that has passed, a cron that can no longer match.
    """
    after = max(after, spec.anchor_at).astimezone(UTC)
    if spec.kind == "at":
        due_at = datetime.fromisoformat(spec.value).astimezone(UTC)
        return due_at if due_at > after else None
    if spec.kind == "every":
        step = timedelta(seconds=interval_s(spec))
        anchor_at = spec.anchor_at.astimezone(UTC)
        return anchor_at + ((after - anchor_at) // step + 1) * step
    return _next_cron(_cron(spec.value), ZoneInfo(spec.timezone), after)


def _next_cron(expr: CronExpr, zone: ZoneInfo, after: datetime) -> datetime | None:
    # Walk matching wall times from the wall time of `after`; when `after` is the second pass of
    # a repeated hour, the matches inside that hour resolve to their first pass, which is past.
    wall = after.astimezone(zone).replace(tzinfo=None)
    while (match := next_wall_match(expr, wall)) is not None:
        due_at = resolve_wall(match, zone)
        if due_at > after:
            return due_at
        wall = match
    return None


@lru_cache(maxsize=4096)
def _cron(value: str) -> CronExpr:
    return parse_cron(value)


CATCH_UP_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class CatchUp:
    """What to do at start-up with the due times a job passed while Hearth was down.

    `late_due_at`: the latest passed due time, when it is within the grace: fire it once, now,
    saying it is late. `coalesced_count`: earlier due times within the grace, folded into that
    one run. `missed_count`/`last_missed_at`: due times beyond the grace, to record as missed and
    tell the owner about once. `next_due_at`: the first due time after now.
    """

    late_due_at: datetime | None
    coalesced_count: int
    missed_count: int
    last_missed_at: datetime | None
    next_due_at: datetime | None

    @property
    def handled_through(self) -> datetime | None:
        """The new `last_due_at` to store: no due time at or before it may fire again."""
        return self.late_due_at or self.last_missed_at


def catch_up(spec: TriggerSpec, last_due_at: datetime | None, now: datetime, grace_s: float) -> CatchUp:
    """Sort the due times in (`last_due_at`, `now`] into one late run, coalesced and missed ones.

    `last_due_at` is the latest due time already fired or recorded (None: none yet, so the
    window starts at the job's creation). The look-back stops at `CATCH_UP_LOOKBACK` so a
    minutely job after a long outage stays cheap; older due times are not counted.
    """
    since = max(last_due_at or spec.anchor_at, now - CATCH_UP_LOOKBACK)
    passed: list[datetime] = []
    while (due_at := next_run(spec, since)) is not None and due_at <= now:
        passed.append(due_at)
        since = due_at
    grace = timedelta(seconds=grace_s)
    missed = [due_at for due_at in passed if now - due_at > grace]
    within = passed[len(missed) :]
    return CatchUp(
        late_due_at=within[-1] if within else None,
        coalesced_count=max(len(within) - 1, 0),
        missed_count=len(missed),
        last_missed_at=missed[-1] if missed else None,
        next_due_at=due_at,
    )
