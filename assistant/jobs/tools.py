"""The agent's tools for jobs and the chat's timezone; each answers from the stored row."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session

from assistant.access.policy import DEFAULT_POLICY, RolePolicy
from assistant.agent.builtins import zone
from assistant.agent.tools import Tool, ToolContext, ToolError
from assistant.jobs.rules import Action, JobNotFound, new_job, summary, within_caps
from assistant.jobs.service import JobService
from assistant.jobs.triggers import TriggerError, parse_trigger
from assistant.store import jobs
from assistant.store.jobs import JobKind
from assistant.store.tables import Chat

_WHEN = {
    "at": {"type": "string", "description": "ISO date and time, e.g. 2026-11-27T08:00"},
    "every": {"type": "string", "description": "interval: 30m, 2h, 1d"},
    "cron": {"type": "string", "description": "5-field cron, e.g. 0 7 * * mon-fri"},
    "timezone": {"type": "string", "description": "IANA zone; omit for the person's"},
}
_ALLOW = {
    "type": "array",
    "items": {"type": "string"},
    "description": "tools that change something (such as notes or remember) the task may use when it "
    "runs on its own; the person is asked to approve this",
}
_ID = {
    "type": "object",
    "properties": {"id": {"type": "integer", "description": "the job id"}},
    "required": ["id"],
}


def _text(args: Mapping[str, Any], name: str) -> str | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ToolError(f"{name} must be a string")
    return value


def _job_id(args: Mapping[str, Any]) -> int:
    value = args.get("id")
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        return int(value.strip().lstrip("#"))
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ToolError("id must be the number of a job, as list_jobs shows it")


Caps = Callable[[str], RolePolicy]


def _allowed(args: Mapping[str, Any]) -> list[str]:
    value = args.get("allow") or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ToolError("allow must be a list of tool names")
    return sorted({v.strip() for v in value if v.strip()})


class Schedule:
    """schedule_reminder and schedule_task: one class, two kinds. The job is keyed by the call, so
    a replayed turn finds it instead of adding another; the role's caps hold."""

    effect = True
    untrusted = False

    def __init__(self, service: JobService, kind: JobKind, grace_s: float, caps: Caps | None = None) -> None:
        self.service, self.kind, self.grace_s = service, kind, grace_s
        self.caps: Caps = caps or DEFAULT_POLICY.role
        self.field = "text" if kind == "reminder" else "prompt"
        self.name = f"schedule_{kind}"
        self.description = (
            "Send the person a fixed text at a time (at), on an interval (every) or a cron schedule."
            if kind == "reminder"
            else "Run a prompt later (at, every or cron); your answer to it is sent to the person."
        )
        what = "the text, sent as is" if kind == "reminder" else "what to do then"
        extra = {"allow": _ALLOW} if kind == "task" else {}
        self.parameters: Mapping[str, Any] = {
            "type": "object",
            "properties": {self.field: {"type": "string", "description": what}, **_WHEN, **extra},
            "required": [self.field],
        }

    def needs_approval(self, args: Mapping[str, Any]) -> str | None:
        """A task allowed tools for its unattended runs is made only with the person's approval."""
        allowed = _allowed(args) if self.kind == "task" else []
        return f"it lets the task use {', '.join(allowed)} when it runs on its own" if allowed else None

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        timezone = _text(args, "timezone") or str(ctx.timezone)
        role = self.caps(ctx.trust.role)
        try:
            spec = parse_trigger(
                _text(args, "at"), _text(args, "every"), _text(args, "cron"), timezone, ctx.now
            )
            active = sum(job.active for job in await jobs.for_chat(self.service.store, ctx.chat_id))
            within_caps(spec, active, role.max_active_jobs, role.min_interval_s)
            job = new_job(
                ctx.chat_id, self.kind, _text(args, self.field) or "", spec, self.grace_s, ctx.chat_key
            )
        except TriggerError as exc:
            raise ToolError(str(exc)) from None
        job.effect_key = ctx.call_key or None
        # Only an approved call grants tools, and only tools the role may use.
        allowed = [name for name in _allowed(args) if role.may_use(name)] if self.kind == "task" else []
        job.approved_tools = allowed if ctx.trust.approved else []
        stored = await self.service.add(job)
        return json.dumps({"scheduled": summary(stored, str(ctx.timezone))})


class ListJobs:
    effect = False
    untrusted = False
    name = "list_jobs"
    description = "List this chat's reminders and tasks, with ids and next runs."
    parameters: Mapping[str, Any] = {"type": "object", "properties": {}}

    def __init__(self, service: JobService) -> None:
        self.service = service

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        rows = await jobs.for_chat(self.service.store, ctx.chat_id)
        return json.dumps({"jobs": [summary(job, str(ctx.timezone)) for job in rows]})


class ChangeJob:
    """cancel_job, pause_job and resume_job."""

    parameters: Mapping[str, Any] = _ID
    effect = True
    untrusted = False

    def __init__(self, service: JobService, action: Action) -> None:
        self.service, self.action = service, action
        self.name = f"{action}_job"
        self.description = f"{action.capitalize()} a job by its id."

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        try:
            job = await self.service.change(_job_id(args), ctx.chat_id, self.action)
        except JobNotFound as exc:
            raise ToolError(f"{exc}; list_jobs shows the ids") from None
        return json.dumps(
            {self.action + ("led" if self.action == "cancel" else "d"): summary(job, str(ctx.timezone))}
        )


class SetTimezone:
    # It changes when the chat's later jobs fire.
    effect = True
    untrusted = False
    name = "set_timezone"
    description = "Set the person's time zone when they say where they are."
    parameters: Mapping[str, Any] = {
        "type": "object",
        "properties": {"timezone": {"type": "string", "description": "IANA zone such as America/New_York"}},
        "required": ["timezone"],
    }

    def __init__(self, service: JobService) -> None:
        self.service = service

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        name = (_text(args, "timezone") or "").strip()
        zone(name)

        def set_zone(session: Session) -> None:
            chat = session.get(Chat, ctx.chat_id)
            if chat is None:
                raise ToolError("this chat is not known")
            chat.timezone = name

        await self.service.store.write(set_zone)
        return json.dumps({"timezone": name, "note": "existing jobs keep the timezone they were made in"})


def tools(service: JobService, grace_s: float, caps: Caps | None = None) -> list[Tool]:
    """Every job tool, bound to `service`; `caps` gives each role's limits."""
    return [
        Schedule(service, "reminder", grace_s, caps),
        Schedule(service, "task", grace_s, caps),
        ListJobs(service),
        ChangeJob(service, "cancel"),
        ChangeJob(service, "pause"),
        ChangeJob(service, "resume"),
        SetTimezone(service),
    ]
