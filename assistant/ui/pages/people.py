"""People: owners, members and pending pairing requests; approve, revoke, change a member's policy."""

from __future__ import annotations

from aiohttp import web

from assistant.access.commands import WELCOME
from assistant.access.policy import Policy, RolePolicy
from assistant.keys import CLOCK, POLICY, SENDER, SETTINGS, STORE
from assistant.store import pairing
from assistant.types import Address
from assistant.ui import queries
from assistant.ui.forms import path_id
from assistant.ui.render import done, render

ROUTES = web.RouteTableDef()


def allows(role: RolePolicy) -> str:
    """What a policy lets a member do, in a line: its tools, what it denies and always asks about."""
    parts = [", ".join(role.tools) or "no tools", "teams" if role.teams else "no teams"]
    if role.deny:
        parts.append("never " + ", ".join(role.deny))
    if role.approve:
        parts.append("asks before " + ", ".join(role.approve))
    return "; ".join(parts)


def policies(policy: Policy) -> list[tuple[str, str]]:
    return [(name, allows(policy.role(name))) for name in policy.member_policies()]


@ROUTES.get("/ui/people")
async def people(request: web.Request) -> web.Response:
    app = request.app
    members, pending = await queries.pairings(app[STORE], app[CLOCK]())
    return render(
        request,
        "people.html",
        title="People",
        owners=[str(a) for a in app[SETTINGS].owners],
        members=members,
        pending=pending,
        policies=policies(app[POLICY]),
        source=app[POLICY].source,
    )


@ROUTES.post("/ui/people/{id}/approve")
async def approve(request: web.Request) -> web.Response:
    app = request.app
    row = await queries.pairing_row(app[STORE], path_id(request))
    code = row.code if row is not None and row.status == "pending" else None
    approved = await pairing.approve(app[STORE], code, app[CLOCK](), WELCOME) if code else None
    if approved is None:
        return done(request, "That request is no longer pending (codes last one hour).", "/ui/people")
    app[SENDER].wake()
    return done(request, f"Approved: {approved.address} can talk to Hearth now.", "/ui/people")


@ROUTES.post("/ui/people/revoke")
async def revoke(request: web.Request) -> web.Response:
    raw = (await request.post()).get("address")
    try:
        address = str(Address.parse(raw if isinstance(raw, str) else ""))
    except ValueError:
        return done(request, "That is not an address such as whatsapp:+15551234567.", "/ui/people")
    count = await pairing.revoke(request.app[STORE], address, request.app[CLOCK]())
    text = f"Revoked: {address} can no longer talk to Hearth." if count else f"{address} had no access."
    return done(request, text, "/ui/people")


@ROUTES.post("/ui/people/{id}/policy")
async def set_policy(request: web.Request) -> web.Response:
    """Give a member one of the member policies; they act with it from their next message on."""
    app = request.app
    raw = (await request.post()).get("policy")
    name = raw if isinstance(raw, str) else ""
    if name not in app[POLICY].member_policies():
        return done(request, "That is not one of the member policies.", "/ui/people")
    row = await pairing.set_policy(app[STORE], path_id(request), name)
    if row is None:
        return done(request, "That person is no longer a member.", "/ui/people")
    return done(request, f"{row.address} now acts with the {name} policy.", "/ui/people")
