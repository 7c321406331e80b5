"""The access commands: /approve and /revoke for the owner, /yes and /no for anyone's approvals."""

from __future__ import annotations

from assistant.access.approvals import Approvals
from assistant.commands import CommandContext, Commands, Handler
from assistant.store import Store, pairing
from assistant.types import Address

WELCOME = "You're approved: you can talk to me now."
NOT_OWNER = "Only my owner can do that."


def add_pairing_commands(commands: Commands, store: Store) -> None:
    """/approve CODE and /revoke ADDRESS, answered only in an owner's chat."""

    async def approve(ctx: CommandContext) -> str:
        if ctx.role != "owner":
            return NOT_OWNER
        row = await pairing.approve(store, ctx.args, ctx.now, WELCOME)
        if row is None:
            return "No request has that code (codes last one hour). Send /approve CODE."
        return f"Approved: {row.address} can talk to me now."

    async def revoke(ctx: CommandContext) -> str:
        if ctx.role != "owner":
            return NOT_OWNER
        try:
            address = str(Address.parse(ctx.args))
        except ValueError:
            return "Send /revoke followed by an address, such as /revoke whatsapp:+15551234567."
        count = await pairing.revoke(store, address, ctx.now)
        if not count:
            return f"{address} had no access."
        return f"Revoked: {address} can no longer talk to me, and their jobs are paused."

    commands.add("approve", "let a person in with their pairing code (owner only)", approve)
    commands.add("revoke", "take back a person's access: /revoke whatsapp:+1555… (owner only)", revoke)


def add_approval_commands(commands: Commands, approvals: Approvals) -> None:
    """/yes ID runs a held-back call once; /no ID drops it. Each chat answers only its own."""

    def answer(yes: bool) -> Handler:
        async def handler(ctx: CommandContext) -> str:
            code = ctx.args.split()[0] if ctx.args.split() else ""
            if not code:
                return f"Send /{'yes' if yes else 'no'} followed by the request's code."
            by = ctx.chat.address
            done = await approvals.answer(code, yes, by, ctx.chat.id, ctx.role)
            return done.text

        return handler

    commands.add("yes", "approve a request I asked about: /yes ID", answer(True))
    commands.add("no", "deny a request I asked about: /no ID", answer(False))
