"""`hearth pair list | approve CODE | revoke ADDRESS`: pairing from the command line."""

from __future__ import annotations

import argparse
import asyncio

from assistant.access.gate import WELCOME
from assistant.settings import Settings
from assistant.store import Store, pairing
from assistant.store.columns import utcnow
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


RUN = {"pair": pair}
ARGUMENTS = {"pair": arguments}
