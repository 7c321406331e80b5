"""`hearth pair list | approve CODE | revoke ADDRESS`: pairing from the command line; `hearth approvals`:
every request for approval, who asked, what for, and what became of it."""

from __future__ import annotations

import argparse
import asyncio
import json

from assistant.access.commands import WELCOME
from assistant.settings import Settings
from assistant.store import Store, approvals, pairing
from assistant.store.columns import utcnow
from assistant.store.tables import Approval
from assistant.types import Address


def arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="pending requests and approved people")
    approve = actions.add_parser("approve", help="let a person in with their pairing code")
    approve.add_argument("code")
    revoke = actions.add_parser("revoke", help="take back a person's access")
    revoke.add_argument("address", help="such as whatsapp:+15551234567 or sms:+15551234567")


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    store = await Store.open(settings.database_url)
    try:
        now = utcnow()
        if args.action == "approve":
            row = await pairing.approve(store, args.code, now, WELCOME)
            print(f"approved {row.address}" if row else "no live request has that code (codes last one hour)")
            return 0 if row else 1
        if args.action == "revoke":
            address = str(Address.parse(args.address))
            count = await pairing.revoke(store, address, now)
            print(f"revoked {address}" if count else f"{address} had no access")
            return 0 if count else 1
        for row in await pairing.listing(store, now):
            until = f"code {row.code} until {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.code else "approved"
            print(f"{row.address}\t{until}")
        return 0
    finally:
        await store.close()


def pair(settings: Settings, args: argparse.Namespace) -> int:
    """Pairing requests: list them, approve one by code, or revoke an address."""
    try:
        return asyncio.run(_run(settings, args))
    except ValueError as exc:
        print(f"hearth: {exc}")
        return 2


def approval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=50, help="how many, newest first (50)")
    parser.add_argument("--pending", action="store_true", help="only those still waiting for an answer")


def approval_line(row: Approval) -> str:
    """One request: when, who asked, the exact call and why, then who answered, when and how it ended."""
    asked = f"{row.requested_at:%Y-%m-%d %H:%M:%S} UTC"
    answered = f"{row.decided_by} at {row.decided_at:%Y-%m-%d %H:%M:%S} UTC" if row.decided_at else "-"
    outcome = " ".join((row.outcome or "").split())[:120]
    call = f"{row.tool} {json.dumps(row.arguments, ensure_ascii=False, sort_keys=True)}"
    return (
        f"{row.code}\t{row.status}\t{asked}\t{row.requested_by} ({row.role})\t{call}\t"
        f"why: {row.reason}\tanswered: {answered}\toutcome: {outcome or '-'}"
    )


async def _approvals(settings: Settings, args: argparse.Namespace) -> int:
    store = await Store.open(settings.database_url)
    try:
        status = approvals.PENDING if args.pending else None
        rows = await approvals.listing(store, max(1, args.limit), status=status)
    finally:
        await store.close()
    for row in rows:
        print(approval_line(row))
    if not rows:
        print("no approval requests")
    return 0


def approvals_command(settings: Settings, args: argparse.Namespace) -> int:
    """Every approval request and answer: who, what, when, outcome."""
    return asyncio.run(_approvals(settings, args))


RUN = {"pair": pair, "approvals": approvals_command}
ARGUMENTS = {"pair": arguments, "approvals": approval_arguments}
