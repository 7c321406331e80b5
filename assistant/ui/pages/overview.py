"""The overview: the doctor's checks, the model, queues, turns and teams at work, recent failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from assistant.keys import MODEL_INFO, ROUTER, STARTED_AT, STORE
from assistant.ops.check import Check
from assistant.ops.doctor import CHECKS, check_database
from assistant.settings import Settings
from assistant.store import views
from assistant.team.app import SWARM
from assistant.ui import queries
from assistant.ui.render import render

ROUTES = web.RouteTableDef()
# The checks reach Ollama, Docker and the public URL: run them at most this often, and never wait
# on one for longer than the timeout (it then shows as failed).
CHECKS_EVERY_S = 30.0
CHECK_TIMEOUT_S = 8.0


async def _one(
    check: Callable[[Settings], Awaitable[Check | list[Check]]], settings: Settings
) -> list[Check]:
    name = check.__name__.removeprefix("check_").replace("_", " ")
    try:
        found = await asyncio.wait_for(check(settings), CHECK_TIMEOUT_S)
    except TimeoutError:
        return [Check(name, False, f"no answer within {CHECK_TIMEOUT_S:g} s", "run `hearth doctor`")]
    except Exception as exc:
        return [Check(name, False, f"{type(exc).__name__}: {exc}", "run `hearth doctor`")]
    return found if isinstance(found, list) else [found]


@dataclass
class Doctor:
    """The doctor's checks, remembered for CHECKS_EVERY_S; concurrent pages share one run."""

    settings: Settings
    checked_at: float = -CHECKS_EVERY_S
    results: list[Check] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def checks(self, database: Check) -> list[Check]:
        async with self._lock:
            if time.monotonic() - self.checked_at >= CHECKS_EVERY_S:
                # The running app's own store stands in for the doctor's, which opens a second one.
                chosen = [c for c in CHECKS if c is not check_database]
                found = await asyncio.gather(*(_one(c, self.settings) for c in chosen))
                self.results = [check for group in found for check in group]
                self.checked_at = time.monotonic()
        return [database, *self.results]


DOCTOR = web.AppKey("dashboard_doctor", Doctor)


async def database_check(request: web.Request) -> tuple[Check, views.Counts | None]:
    try:
        counts = await views.counts(request.app[STORE])
    except Exception as exc:
        return Check("database", False, type(exc).__name__, "run `hearth doctor`"), None
    return Check("database", True, "answering"), counts


def teams(app: web.Application) -> list[tuple[int, int, int]]:
    """(chat, members, running) for each team at work."""
    if SWARM not in app:
        return []
    return [(t.chat_id, t.size, t.running) for t in app[SWARM].teams.values()]


@ROUTES.get("/ui/")
async def overview(request: web.Request) -> web.Response:
    app = request.app
    database, counts = await database_check(request)
    checks = await app[DOCTOR].checks(database)
    return render(
        request,
        "overview.html",
        title="Overview",
        checks=checks,
        info=app[MODEL_INFO],
        counts=counts,
        in_flight=app[ROUTER].in_flight if ROUTER in app else 0,
        teams=teams(app),
        failures=await queries.failures(app[STORE]),
        started_at=app[STARTED_AT],
    )


@ROUTES.get("/ui")
async def root(request: web.Request) -> web.Response:
    return web.Response(status=308, headers={"Location": "/ui/"})
