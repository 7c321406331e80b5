"""Approvals: a call held back is put to the person, then run once if they say yes in time.

The request is a reply built by Hearth, not the model, naming exactly what would run: on the
WhatsApp Cloud API with Approve / Deny buttons, everywhere as text naming `/yes CODE` and
`/no CODE`. An approved call runs at once, outside any model turn, keyed by the held-back call's
own key (so it happens once even if the answer is replayed), and its outcome is the answer to
`/yes`: that reply is part of the chat's history, so the model reads next turn what was done. When
the tool's output is untrusted, the output goes to the person as a notice the model never reads.
A request not answered in time counts as denied; the person is told.

A dashboard calls `pending`, `listing` and `answer` (with `chat_id=None`: the owner answering
for any chat).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from assistant.access.content import clean, unwrapped
from assistant.access.policy import Policy
from assistant.agent.tools import Tool, ToolContext, ToolRegistry, Trust, output_untrusted
from assistant.store import Store, approvals, inbox
from assistant.store.tables import Approval, Reply

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_PER_TURN = 3
SHOWN_RESULT_CHARS = 1500
PROMPT = (
    "Approval needed ({code}) to run:\n{call}\nWhy I ask: {reason}.\n"
    "Reply /yes {code} to run it once, or /no {code}. Unanswered by {until}, it counts as no."
)
WAITING = (
    "not run yet: the person has been asked to approve this call (request {code}). Do not call it "
    "again; tell them it waits for their /yes {code} or /no {code}."
)
TOO_MANY = "not run: this turn already waits for several approvals; tell the person what you would do"
EXPIRED_NOTICE = "Approval {code} expired: {tool} did not run."


@dataclass(frozen=True)
class Answer:
    """What answering did: the text for the person, and the request as it now stands."""

    text: str
    approval: Approval | None = None


def shown(tool: str, args: Mapping[str, Any]) -> str:
    """A call as the person reads it: the tool's name and its exact arguments."""
    return f"{tool} {json.dumps(dict(args), ensure_ascii=False, sort_keys=True)}"


def cleaned(value: Any) -> Any:
    """Arguments without hidden characters, so what is shown is exactly what runs."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [cleaned(v) for v in value]
    if isinstance(value, dict):
        return {clean(str(k)): cleaned(v) for k, v in value.items()}
    return value


class Approvals:
    """Requests, answers and expiry of held-back calls for every chat."""

    def __init__(
        self,
        store: Store,
        tools: ToolRegistry,
        policy: Policy,
        *,
        clock: Clock,
        wake: Callable[[], None],
        timeout_s: float,
        timezone: ZoneInfo,
    ) -> None:
        self.store, self.tools, self.policy = store, tools, policy
        self.clock, self.wake = clock, wake
        self.timeout = timedelta(seconds=timeout_s)
        self.timezone = timezone
        self._changed = asyncio.Event()

    async def request(self, tool: Tool, args: Mapping[str, Any], ctx: ToolContext, reason: str) -> str:
        """Ask the person about this call (once per call key); what the model reads instead."""
        if await approvals.in_turn(self.store, ctx.turn_key) >= MAX_PER_TURN:
            return json.dumps({"error": TOO_MANY})
        now = self.clock()
        arguments = cleaned(dict(args))
        row = Approval(
            code=approvals.new_code(),
            chat_id=ctx.chat_id,
            call_key=ctx.call_key,
            tool=tool.name,
            arguments=arguments,
            reason=reason,
            role=ctx.trust.role,
            requested_by=ctx.chat_key.partition(":")[2],
            requested_at=now,
            expires_at=now + self.timeout,
        )
        until = f"{row.expires_at.astimezone(ctx.timezone):%H:%M}"
        text = PROMPT.format(code=row.code, reason=reason, call=shown(tool.name, arguments), until=until)
        meta = {"kind": "notice", "approval": row.code}
        prompt = Reply(chat_id=ctx.chat_id, text=text, meta=meta, created_at=now)
        stored, new = await approvals.request(self.store, row, prompt)
        if new:
            logger.info("approval %s requested in chat %s: %s", stored.code, ctx.chat_id, tool.name)
            self._changed.set()
            self.wake()
        return json.dumps({"status": "waiting for approval", "note": WAITING.format(code=stored.code)})

    async def answer(self, code: str, yes: bool, by: str, chat_id: int | None, role: str) -> Answer:
        """The person's (or, with `chat_id` None, the owner's) answer to request `code`."""
        found = await approvals.find(self.store, code, chat_id)
        if found is None or found.id is None:
            return Answer(f"There is no approval request {approvals.normalise_code(code)} here.")
        if found.status == approvals.APPROVED:
            return await self._run(found, role)  # answered before a restart cut the run short
        if found.status != approvals.PENDING:
            return Answer(f"Request {found.code} was already {found.status}; nothing more happens.", found)
        now = self.clock()
        to_status = approvals.APPROVED if yes else "denied"
        moved = await approvals.decide(self.store, found.id, approvals.PENDING, to_status, now, by)
        if moved is None:
            await self.expire()
            return Answer(f"Request {found.code} expired, so {found.tool} did not run.", found)
        logger.info("approval %s %s by %s", moved.code, to_status, by)
        self._changed.set()
        if not yes:
            return Answer(f"Denied: {found.tool} did not run.", moved)
        return await self._run(moved, role)

    async def _run(self, row: Approval, role: str) -> Answer:
        assert row.id is not None
        tool = self.tools.get(row.tool)
        if tool is None or not self.policy.may_use(role, row.tool):
            await approvals.finish(self.store, row.id, "failed", "not permitted", None)
            return Answer(f"Approved, but {row.tool} is not permitted for you now, so it did not run.", row)
        result = await self.tools.run(row.tool, row.arguments, await self._context(row, role))
        failed = result.error
        status = "failed" if failed else "done"
        head = f"Approved {row.code}: {shown(row.tool, row.arguments)}"
        if output_untrusted(tool) or result.untrusted:
            # The person sees the output; the model never reads it outside a guarded turn.
            text = _cut(unwrapped(result.text))
            notice = Reply(chat_id=row.chat_id, text=text, meta={"kind": "notice"}, created_at=self.clock())
            await approvals.finish(self.store, row.id, status, result.text, notice)
            self.wake()
            return Answer(f"{head} ran; what it returned follows.", row)
        await approvals.finish(self.store, row.id, status, result.text, None)
        verb = "failed" if failed else "ran"
        return Answer(f"{head} {verb}: {_cut(result.text)}", row)

    async def _context(self, row: Approval, role: str) -> ToolContext:
        chat = await inbox.get_chat(self.store, row.chat_id)
        zone = ZoneInfo(chat.timezone) if chat.timezone else self.timezone
        turn_key = row.call_key.rpartition(":")[0]
        trust = Trust(role=role, may_ask=False, approved=True)
        key = f"{chat.channel}:{chat.address}"
        ctx = ToolContext(row.chat_id, key, zone, self.clock(), trust=trust, turn_key=turn_key)
        return replace(ctx, call_key=row.call_key)

    async def pending(self, chat_id: int | None = None) -> list[Approval]:
        """Requests still waiting, newest first."""
        chats = None if chat_id is None else [chat_id]
        return await approvals.listing(self.store, 200, chats, approvals.PENDING)

    async def listing(self, limit: int = 50) -> list[Approval]:
        return await approvals.listing(self.store, limit)

    async def expire(self) -> int:
        """Expire every request past its time, telling each chat; how many there were."""
        rows = await approvals.expire(self.store, self.clock(), EXPIRED_NOTICE)
        for row in rows:
            logger.info("approval %s expired unanswered in chat %s", row.code, row.chat_id)
        if rows:
            self.wake()
        return len(rows)

    async def run(self) -> None:
        """Expire requests as their time runs out, until cancelled; woken when requests change."""
        while True:
            try:
                await self.expire()
                next_at = await approvals.next_expiry(self.store)
            except Exception:
                logger.exception("expiring approvals failed; trying again in a minute")
                next_at = self.clock() + timedelta(minutes=1)
            delay_s = None if next_at is None else max(0.0, (next_at - self.clock()).total_seconds())
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), delay_s)


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_RESULT_CHARS else text[:SHOWN_RESULT_CHARS] + " […]"
