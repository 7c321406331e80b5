"""The conversations `hearth doctor --model` holds with the model: what each asks, what a model that
works with Hearth does, and how that is checked (by the calls made and by what the store holds after)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from assistant.jobs.triggers import next_run, spec_of
from assistant.store.tables import Job
from assistant.types import ToolCall


@dataclass(frozen=True)
class Seen:
    """What one probe's turn did: the calls, the answer, and the chat's jobs, facts and time zone after."""

    calls: list[ToolCall]
    text: str
    jobs: list[Job]
    facts: list[str]
    timezone: str | None
    now: datetime
    flaky_calls: int = 0

    def live(self, kind: str, word: str) -> list[Job]:
        return [j for j in self.jobs if j.kind == kind and j.active and word in j.text.lower()]

    def called(self, name: str) -> list[ToolCall]:
        return [call for call in self.calls if call.name == name]


@dataclass(frozen=True)
class Probe:
    name: str
    message: str
    expected: str
    check: Callable[[Seen], bool]
    jobs: tuple[tuple[str, str], ...] = field(default=())  # (text, cron) reminders set up beforehand
    flaky: bool = False  # get_time fails its first call


def local(job: Job, at: datetime | None) -> datetime | None:
    return at.astimezone(ZoneInfo(job.timezone)) if at is not None else None


def runs(job: Job, count: int) -> list[datetime]:
    """The job's next `count` due times, in its own zone."""
    found: list[datetime] = []
    at = job.next_run_at
    while at is not None and len(found) < count:
        found.append(at.astimezone(ZoneInfo(job.timezone)))
        at = next_run(spec_of(job), at)
    return found


def in_ten_minutes(seen: Seen) -> bool:
    soon = seen.live("reminder", "pizza")
    waits = [j.next_run_at - seen.now for j in soon if j.next_run_at is not None]
    return any(timedelta(minutes=8) <= wait <= timedelta(minutes=12) for wait in waits)


def tomorrow_at_eight(seen: Seen) -> bool:
    tomorrow = (seen.now + timedelta(days=1)).date()
    for job in seen.live("reminder", "dentist"):
        at = local(job, job.next_run_at)
        if at is not None and (at.date(), at.hour, at.minute) == (tomorrow, 8, 0):
            return True
    return False


def daily_at(hour: int, minute: int, seen: Seen) -> bool:
    for job in seen.live("reminder", "vitamin"):
        times = runs(job, 3)
        days = [t.date() for t in times]
        if len(times) == 3 and all((t.hour, t.minute) == (hour, minute) for t in times):
            return all((b - a).days == 1 for a, b in itertools.pairwise(days))
    return False


def weekdays_at_nine(seen: Seen) -> bool:
    for job in seen.live("task", "news"):
        times = runs(job, 10)
        if len(times) == 10 and all((t.hour, t.minute) == (9, 0) for t in times):
            return {t.weekday() for t in times} == {0, 1, 2, 3, 4}
    return False


def cancelled_the_plants(seen: Seen) -> bool:
    plants = [j for j in seen.jobs if "plants" in j.text]
    mum = [j for j in seen.jobs if "Mum" in j.text]
    return bool(plants) and all(j.cancelled_at is not None for j in plants) and all(j.active for j in mum)


def paused_vitamins(seen: Seen) -> bool:
    vitamins = [j for j in seen.jobs if "vitamins" in j.text]
    return bool(vitamins) and all(j.paused for j in vitamins)


def got_time(zone: str | None) -> Callable[[Seen], bool]:
    def check(seen: Seen) -> bool:
        asked = [str(c.arguments.get("timezone") or "") for c in seen.called("get_time")]
        return any(a == zone for a in asked) if zone else bool(asked)

    return check


PROBES: tuple[Probe, ...] = (
    Probe("time here", "What time is it?", "get_time", got_time(None)),
    Probe(
        "time elsewhere", "What time is it in Tokyo right now?", "get_time Asia/Tokyo", got_time("Asia/Tokyo")
    ),
    Probe(
        "reminder in 10 min",
        "Remind me in 10 minutes to take the pizza out of the oven.",
        "schedule_reminder, due in 10 minutes",
        in_ten_minutes,
    ),
    Probe(
        "reminder tomorrow",
        "Remind me tomorrow at 8am to call the dentist.",
        "schedule_reminder, tomorrow 08:00",
        tomorrow_at_eight,
    ),
    Probe(
        "daily cron",
        "Every day at 7:30 in the morning, remind me to take my vitamins.",
        "schedule_reminder, daily at 07:30",
        lambda seen: daily_at(7, 30, seen),
    ),
    Probe(
        "weekday task",
        "Every weekday at 9am, look up the news and send me a short summary.",
        "schedule_task, mon-fri at 09:00",
        weekdays_at_nine,
    ),
    Probe(
        "cancel by text",
        "Please cancel my reminder about watering the plants.",
        "cancel_job on the plants reminder only",
        cancelled_the_plants,
        jobs=(("water the plants", "0 18 * * *"), ("call Mum", "0 10 * * sun")),
    ),
    Probe(
        "pause a job",
        "Pause my vitamins reminder for now.",
        "pause_job on the vitamins reminder",
        paused_vitamins,
        jobs=(("take my vitamins", "30 7 * * *"),),
    ),
    Probe(
        "list jobs",
        "Which reminders do I have?",
        "list_jobs",
        lambda seen: bool(seen.called("list_jobs")),
        jobs=(("call Mum", "0 10 * * sun"),),
    ),
    Probe(
        "remember a fact",
        "Please remember that my daughter's name is Mia.",
        "remember a fact naming Mia",
        lambda seen: any("mia" in fact.lower() for fact in seen.facts),
    ),
    Probe(
        "set time zone",
        "I have just moved to Berlin.",
        "set_timezone Europe/Berlin",
        lambda seen: seen.timezone == "Europe/Berlin",
    ),
    Probe(
        "no tool: fact",
        "What is the capital of France?",
        "no tool call; answer says Paris",
        lambda seen: not seen.calls and "paris" in seen.text.lower(),
    ),
    Probe(
        "no tool: thanks",
        "Thank you, that's all for now!",
        "no tool call",
        lambda seen: not seen.calls and bool(seen.text.strip()),
    ),
    Probe(
        "recover from error",
        "What time is it in Lisbon?",
        "get_time again after it failed once",
        lambda seen: seen.flaky_calls >= 2 and bool(seen.text.strip()),
        flaky=True,
    ),
)


def got(seen: Seen, width: int = 60) -> str:
    """What the model did, in a line: its calls with their arguments, or its answer."""
    if seen.calls:
        text = "; ".join(f"{c.name} {json.dumps(dict(c.arguments), ensure_ascii=False)}" for c in seen.calls)
    else:
        text = "no tool: " + " ".join(seen.text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
