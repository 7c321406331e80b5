"""`hearth doctor` on PostgreSQL: the replicas connected, the scheduler's leader, and leases left
behind by a replica that died and were not taken over."""

from __future__ import annotations

from assistant.ops.check import Check
from assistant.settings import Settings
from assistant.store import Store, leases


async def check_replicas(settings: Settings) -> list[Check]:
    if not settings.replicated:
        return []
    try:
        store = await Store.open(settings.database_url)
    except Exception:
        return []  # the database check says what is wrong
    try:
        running = await leases.listening(store)
        leader = await leases.leader(store)
        held = await leases.holdings(store)
    finally:
        await store.close()
    if not running:
        return [Check("replicas", True, "none runs now; leases and the leader are checked while one does")]
    found = [
        Check("replicas", True, f"{len(running)} running: {', '.join(running)}"),
        Check(
            "leader",
            leader is not None,
            f"the scheduler runs on {leader}" if leader else "no replica runs the scheduler",
            "look in the replicas' logs for the scheduler lock; a replica takes it within a second",
        ),
    ]
    # Live replicas take over a lease within a third of HEARTH_LEASE_S of its running out.
    stale = [h for h in held if h.overdue_s > settings.lease_s]
    found.append(
        Check(
            "leases",
            not stale,
            "; ".join(f"{h.owner} held {h.chats} chats, run out {h.overdue_s:.0f} s ago" for h in stale)
            or f"{sum(h.chats for h in held)} chats held by {len(held)} replicas, all renewed in time",
            "a replica died and no other took its chats over: check that the others run and reach "
            "the database",
        )
    )
    return found
