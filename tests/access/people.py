"""People on WhatsApp for the access tests: the owner, and a stranger who becomes a member by pairing."""

from __future__ import annotations

import re
from typing import Any

from assistant.app import create_app
from assistant.settings import Settings
from tests.channels.webhooks import OWNER_WA, post_whatsapp, until, wa_body, wa_message, whatsapp_settings
from tests.conftest import AppClient, MakeClient
from tests.fakes.graph import GraphFake

OWNER = {"wa_id": OWNER_WA, "user_id": "US.1"}
MEMBER = {"wa_id": "4915112345678", "user_id": "DE.77001122"}
MEMBER_ADDRESS = "whatsapp:DE.77001122"


async def start(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, **changes: Any
) -> AppClient:
    client: AppClient = await aiohttp_client(create_app(whatsapp_settings(settings, graph, **changes)))
    return client


def to(graph: GraphFake, person: dict[str, str]) -> list[str]:
    """What the person was sent: texts, and the bodies of button messages."""
    found = []
    for sent in graph.sent:
        if sent.get("recipient") != person["user_id"]:
            continue
        if sent["type"] == "text":
            found.append(sent["text"]["body"])
        elif sent["type"] == "interactive":
            found.append(sent["interactive"]["body"]["text"])
    return found


async def say(client: AppClient, person: dict[str, str], text: str) -> None:
    message = wa_message(text, wa_id=person["wa_id"], user_id=person["user_id"])
    response = await post_whatsapp(client, wa_body(message))
    assert response.status == 200


async def tap(client: AppClient, person: dict[str, str], reply_id: str, title: str) -> None:
    """The person taps a reply button."""
    part = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
    message = wa_message(
        None, mtype="interactive", part=part, wa_id=person["wa_id"], user_id=person["user_id"]
    )
    body = wa_body(message)
    assert (await post_whatsapp(client, body)).status == 200


async def pair(client: AppClient, graph: GraphFake) -> None:
    """The stranger asks, the owner approves the code: the stranger is a member."""
    await say(client, MEMBER, "hello")
    await until(lambda: len(to(graph, MEMBER)) == 1)
    code = re.findall(r"code is ([A-Z0-9]{8})", to(graph, MEMBER)[0])[0]
    await say(client, OWNER, f"/approve {code}")
    await until(lambda: "You're approved: you can talk to me now." in to(graph, MEMBER))
