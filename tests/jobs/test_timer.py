"""APScheduler as Hearth's timer: a retry fires once at its instant, and the sweep runs on its interval."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from assistant.jobs.timer import ApsTimer
from tests.channels.webhooks import until


async def test_a_retry_fires_once_and_the_sweep_keeps_running() -> None:
    fired: list[int] = []
    sweeps: list[datetime] = []

    async def fire(job_id: int) -> None:
        fired.append(job_id)

    async def sweep() -> None:
        sweeps.append(datetime.now(UTC))

    timer = ApsTimer(fire, sweep, sweep_interval_s=0.1)
    timer.start()
    timer.later(7, datetime.now(UTC) + timedelta(seconds=0.2))
    await until(lambda: fired == [7] and len(sweeps) >= 3, timeout_s=5)
    await asyncio.sleep(0.3)
    timer.stop()
    assert fired == [7]
