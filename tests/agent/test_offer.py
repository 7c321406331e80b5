"""What one request offers: the core tools, the kinds the chat asked for, the rest while they fit;
under the limit, and the same from turn to turn until a kind is asked for."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assistant.agent.more import MoreTools
from assistant.agent.offer import (
    CORE,
    KINDS,
    MORE_TOOLS,
    Offer,
    kind_of,
    mentions,
    spec_chars,
    words,
)
from assistant.agent.tools import ToolContext, ToolError, ToolRegistry


class Stub:
    def __init__(self, name: str, size: int = 100, kind: str | None = None) -> None:
        self.name = name
        self.description = "d" * size
        self.parameters: Mapping[str, Any] = {"type": "object", "properties": {}}
        if kind is not None:
            self.kind = kind

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        return "ok"


def registry(*extra: Stub) -> tuple[ToolRegistry, Offer]:
    tools = ToolRegistry([Stub(name) for name in KINDS if name != MORE_TOOLS])
    for tool in extra:
        tools.add(tool)
    offer = Offer(max_chars=4000)
    tools.add(MoreTools(offer, tools))
    return tools, offer


def names(specs: list[dict[str, Any]]) -> list[str]:
    return [str(spec["function"]["name"]) for spec in specs]


def total(specs: list[dict[str, Any]]) -> int:
    return sum(spec_chars(spec) for spec in specs)


def context(chat_id: int = 1) -> ToolContext:
    return ToolContext(chat_id, f"api:{chat_id}", ZoneInfo("UTC"), datetime(2026, 12, 1, tzinfo=UTC))


def big_server() -> list[Stub]:
    return [
        Stub(f"home__{name}", 150, kind="home") for name in ("lights_on", "lights_off", "thermostat", "lock")
    ]


def test_the_core_is_always_there_and_the_limit_holds() -> None:
    tools, offer = registry(*big_server(), Stub("python", 300), Stub("notes", 400))
    specs = offer.specs(tools, 1)
    core = [name for name, kind in KINDS.items() if kind in CORE]
    assert set(core) <= set(names(specs))
    assert total(specs) <= offer.max_chars
    assert MORE_TOOLS in names(specs)


def test_what_is_offered_is_stable_until_a_kind_is_asked_for() -> None:
    tools, offer = registry(*big_server(), Stub("python", 300), Stub("notes", 400))
    first = offer.specs(tools, 1, ["hello"])
    assert offer.specs(tools, 1, ["what's up?"]) == first
    assert offer.specs(tools, 1, ["thanks"]) == first
    asked = offer.specs(tools, 1, ["turn the lights on in the kitchen"])
    assert "home__lights_on" in names(asked)
    assert asked != first
    # Once asked for, a kind stays: the next turns carry the same specs.
    assert offer.specs(tools, 1, ["and now something else"]) == asked
    assert total(asked) <= offer.max_chars


def test_chats_choose_for_themselves() -> None:
    tools, offer = registry(*big_server())
    offer.specs(tools, 1, ["search the web for ferries"])
    assert "web_search" in names(offer.specs(tools, 1))
    other = names(offer.specs(tools, 2))
    assert "home__lights_on" not in other


async def test_more_tools_names_the_rest_and_brings_one_in() -> None:
    tools, offer = registry(*big_server(), Stub("python", 300), Stub("notes", 1000))
    specs = offer.specs(tools, 1)
    more = next(s for s in specs if s["function"]["name"] == MORE_TOOLS)
    assert "notes" in more["function"]["parameters"]["properties"]["kind"]["enum"]
    assert "notes (" in more["function"]["description"]
    assert "notes" not in names(specs)
    answer = json.loads(str(await tools.get(MORE_TOOLS).call({"kind": "notes"}, context())))  # type: ignore[union-attr]
    assert answer == {"now_available": ["notes"]}
    assert "notes" in names(offer.specs(tools, 1))
    with pytest.raises(ToolError, match="unknown kind"):
        await tools.get(MORE_TOOLS).call({"kind": "nope"}, context())  # type: ignore[union-attr]


def test_a_kind_too_big_for_one_request_comes_tool_by_tool() -> None:
    huge = [Stub(f"files__op{i}", 600, kind="files") for i in range(8)]
    tools, offer = registry(*huge)
    offer.activate(1, "files")
    specs = offer.specs(tools, 1)
    got = [n for n in names(specs) if n.startswith("files__")]
    assert 0 < len(got) < 8
    assert total(specs) <= offer.max_chars


def test_before_hooks_run_each_time() -> None:
    tools, offer = registry()
    ran: list[int] = []
    offer.before.append(lambda: ran.append(1))
    offer.specs(tools, 1)
    offer.specs(tools, 1)
    assert ran == [1, 1]


@pytest.mark.parametrize(
    ("text", "keywords", "hit"),
    [
        ("Remind me at 8", ("reminder",), True),
        ("please search for it", ("search",), True),
        ("can you look up the hours", ("look up",), True),
        ("look at this", ("look up",), False),
        ("the rug is red", ("rugby",), False),
        ("lights", ("lights_on",), False),
    ],
)
def test_mentions(text: str, keywords: tuple[str, ...], hit: bool) -> None:
    assert mentions(words([text]), keywords) is hit


def test_a_tool_says_its_own_kind() -> None:
    assert kind_of(Stub("home__lock", kind="home")) == "home"
    assert kind_of(Stub("get_time")) == "time"
    assert kind_of(Stub("python")) == "python"


async def test_a_tool_asked_for_by_name_comes_first_in_a_big_kind() -> None:
    huge = [
        Stub(f"files__{op}", 600, kind="files") for op in ("copy", "delete", "move", "read", "stat", "write")
    ]
    tools, offer = registry(*huge)
    specs = names(offer.specs(tools, 1, ["please write this to the files server"]))
    assert "files__write" in specs
    answer = json.loads(str(await tools.get(MORE_TOOLS).call({"kind": "files__stat"}, context(2))))  # type: ignore[union-attr]
    assert "files__stat" in answer["now_available"]
    assert "files__stat" in names(offer.specs(tools, 2))


def test_the_kinds_follow_the_tools_their_descriptions_and_the_kinds_words() -> None:
    tools, offer = registry()
    kept = offer.kinds(tools)
    assert offer.kinds(tools) is kept  # every request asks: kept while nothing changed
    lamp = Stub("home__lamp", kind="home")
    tools.add(lamp)
    assert offer.kinds(tools)["home"].tools == [lamp]
    lamp.description = "Switch the lamp. It is in the hall."
    assert offer.kinds(tools)["home"].summary == "Switch the lamp"
    assert not mentions(words(["the lights are off"]), offer.kinds(tools)["home"].keywords)
    offer.describe("home", "the house", ["lights"])
    assert offer.kinds(tools)["home"].summary == "the house"
    assert mentions(words(["the lights are off"]), offer.kinds(tools)["home"].keywords)
