"""Running a team: members concurrently under a semaphore, each bounded in time, steps and tokens."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from assistant.agent.model import Model
from assistant.agent.tools import Tool, ToolContext, ToolRegistry
from assistant.agent.turn import Guard, TurnInput
from assistant.errors import ModelMissing, ModelUnavailable
from assistant.store import Store, runs
from assistant.store.columns import utcnow
from assistant.store.tables import Run
from assistant.team.member import MemberAgent, Meter, MeteredModel, OverBudget, Usage
from assistant.team.roles import Role

logger = logging.getLogger(__name__)

Status = Literal["done", "failed", "timeout", "over_budget", "cancelled"]
Notify = Callable[[int, str], Awaitable[None]]
PROGRESS = "Working on it: {count} helpers are on this, so it will take a little longer."


class Models(Protocol):
    """Where a member gets the model a role names (None: the main model); ModelMissing if absent."""

    async def get(self, name: str | None) -> Model: ...


@dataclass(frozen=True)
class Assignment:
    role: Role
    task: str


@dataclass(frozen=True)
class Outcome:
    """How one member ended; `answer` when done, `error` (a short fixed sentence) otherwise."""

    role: str
    task: str
    status: Status
    answer: str = ""
    error: str = ""
    # The member read untrusted content, so its answer may carry someone else's words.
    untrusted: bool = False


@dataclass(frozen=True)
class Limits:
    concurrency: int
    max_tasks: int
    max_depth: int
    budget_s: float
    max_tokens: int
    progress_after_s: float
    num_ctx: int


@dataclass
class TeamState:
    """A team at work, for /status."""

    chat_id: int
    size: int
    running: int = 0
    finished: int = 0


@dataclass
class Call:
    """One delegate call in progress: where it runs and what it shares."""

    ctx: ToolContext
    depth: int
    parent_id: int | None
    deadline: float
    meter: Meter
    slots: asyncio.Semaphore
    state: TeamState
    records: list[Run] = field(default_factory=list)


@dataclass
class Swarm:
    """Everything teams need; one per application. `delegate_factory` builds a delegate tool for a
    member (set by the delegate module, which depends on this one)."""

    store: Store
    tools: ToolRegistry
    roles: dict[str, Role]
    models: Models
    limits: Limits
    notify: Notify
    delegate_factory: Callable[[Swarm, int, int], Tool] | None = None
    guard: Guard | None = None
    teams: dict[int, TeamState] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    async def run_team(
        self, work: list[Assignment], ctx: ToolContext, depth: int, parent_id: int | None
    ) -> list[Outcome]:
        """Run every assignment; each gives an Outcome in order. Cancelling the caller cancels every
        member (they live in a TaskGroup inside this call) and records them as cancelled."""
        loop = asyncio.get_running_loop()
        state = TeamState(ctx.chat_id, len(work))
        call = Call(
            ctx,
            depth,
            parent_id,
            loop.time() + self.limits.budget_s,
            Meter(self.limits.max_tokens),
            asyncio.Semaphore(self.limits.concurrency),
            state,
        )
        team_id = next(self._ids)
        self.teams[team_id] = state
        progress = asyncio.create_task(self._progress(ctx.chat_id, len(work))) if depth == 0 else None
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._member(a, _member_call(call, n))) for n, a in enumerate(work)
                ]
            return [task.result() for task in tasks]
        finally:
            del self.teams[team_id]
            # One write for the whole team, cancelled members included; a member that may delegate
            # was written when it started (its members need its id) and is updated in place.
            await runs.add(self.store, [run for run in call.records if run.id is None])
            if progress is not None:
                progress.cancel()
                await asyncio.gather(progress, return_exceptions=True)

    async def _progress(self, chat_id: int, count: int) -> None:
        await asyncio.sleep(self.limits.progress_after_s)
        try:
            await self.notify(chat_id, PROGRESS.format(count=count))
        except Exception:
            logger.exception("could not tell chat %s that its team is at work", chat_id)

    async def _member(self, work: Assignment, call: Call) -> Outcome:
        async with call.slots:
            left_s = call.deadline - asyncio.get_running_loop().time()
            if left_s <= 0:
                return Outcome(work.role.name, work.task, "timeout", error=TEAM_TIMEOUT)
            if call.meter.exhausted:
                return Outcome(work.role.name, work.task, "over_budget", error=OVER_BUDGET)
            call.state.running += 1
            try:
                return await self._run_member(work, call, min(work.role.timeout_s, left_s))
            finally:
                call.state.running -= 1
                call.state.finished += 1

    async def _run_member(self, work: Assignment, call: Call, timeout_s: float) -> Outcome:
        try:
            model = await self.models.get(work.role.model)
        except (ModelMissing, ModelUnavailable):
            logger.warning("role %s: model %s is not available", work.role.name, work.role.model)
            return Outcome(work.role.name, work.task, "failed", error=MODEL_DOWN)
        usage = Usage()
        run = Run(
            chat_id=call.ctx.chat_id,
            turn_started_at=call.ctx.now,
            parent_id=call.parent_id,
            depth=call.depth + 1,
            role=work.role.name,
            task=work.task,
            model=model.name,
            started_at=utcnow(),
        )
        call.records.append(run)
        run_id = await runs.start(self.store, run) if self._may_delegate(work.role, call) else None
        begun = asyncio.get_running_loop().time()
        outcome = Outcome(work.role.name, work.task, "cancelled", error=CANCELLED)
        try:
            agent = self._agent(work.role, MeteredModel(model, call.meter, usage), call, run_id)
            outcome = await _attempt(
                agent, work, call.ctx, timeout_s, cut_by_team=timeout_s < work.role.timeout_s
            )
            return outcome
        finally:
            values = _ending(outcome, usage, asyncio.get_running_loop().time() - begun)
            for name, value in values.items():
                setattr(run, name, value)
            if run_id is not None:
                await runs.finish(self.store, run_id, **values)

    def _may_delegate(self, role: Role, call: Call) -> bool:
        nested = call.depth + 1 < self.limits.max_depth
        return "delegate" in role.tools and nested and self.delegate_factory is not None

    def _agent(self, role: Role, model: Model, call: Call, run_id: int | None) -> MemberAgent:
        tools = self.tools.subset(name for name in role.tools if name != "delegate")
        if run_id is not None and self.delegate_factory is not None:
            tools.add(self.delegate_factory(self, call.depth + 1, run_id))
        return MemberAgent(
            model,
            tools,
            instructions=role.instructions,
            num_ctx=self.limits.num_ctx,
            max_steps=role.max_steps,
            guard=self.guard,
        )


def _member_call(call: Call, number: int) -> Call:
    """The call as one member sees it: its own turn key (for its effects) and nobody to ask."""
    ctx = call.ctx
    trust = replace(ctx.trust, may_ask=False)
    return replace(call, ctx=replace(ctx, trust=trust, turn_key=f"{ctx.call_key}/{number}", call_key=""))


def _ending(outcome: Outcome, usage: Usage, elapsed_s: float) -> dict[str, Any]:
    """The fields of a member's run once it has ended."""
    return {
        "status": outcome.status,
        "error": outcome.error or None,
        "finished_at": utcnow(),
        "duration_ms": int(elapsed_s * 1000),
        "steps": usage.steps,
        "prompt_tokens": usage.prompt_tokens,
        "eval_tokens": usage.eval_tokens,
        "tool_calls": [{"name": c.name, "arguments": dict(c.arguments)} for c in usage.tool_calls],
    }


TEAM_TIMEOUT = "the team ran out of time before this part was done"
MEMBER_TIMEOUT = "this part took longer than its time limit"
OVER_BUDGET = "the team used up its token budget before this part was done"
MODEL_DOWN = "the model for this role is not available"
FAILED = "this part failed unexpectedly"
CANCELLED = "cancelled"


async def _attempt(
    agent: MemberAgent, work: Assignment, ctx: ToolContext, timeout_s: float, *, cut_by_team: bool
) -> Outcome:
    """One member's loop; every failure becomes an Outcome, only cancellation propagates."""
    name, task = work.role.name, work.task
    try:
        async with asyncio.timeout(timeout_s):
            result = await agent.answer(TurnInput([], [task], ctx))
    except TimeoutError:
        return Outcome(name, task, "timeout", error=TEAM_TIMEOUT if cut_by_team else MEMBER_TIMEOUT)
    except OverBudget:
        return Outcome(name, task, "over_budget", error=OVER_BUDGET)
    except (ModelUnavailable, ModelMissing) as exc:
        logger.warning("team member %s: model unavailable (%s)", name, exc)
        return Outcome(name, task, "failed", error=MODEL_DOWN)
    except Exception:
        logger.exception("team member %s failed", name)
        return Outcome(name, task, "failed", error=FAILED)
    return Outcome(name, task, "done", answer=result.text, untrusted=result.untrusted)
