"""Tool specs' JSON, made once per spec: the same text and sizes as dumping them every time."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from assistant.agent import specjson
from assistant.agent.tools import ToolContext, ToolRegistry


def spec(name: str, description: str = "does a thing") -> dict[str, Any]:
    parameters = {"type": "object", "properties": {"when": {"type": "string", "description": "«now»"}}}
    function = {"name": name, "description": description, "parameters": parameters}
    return {"type": "function", "function": function}


def test_sizes_and_text_are_those_of_json_dumps() -> None:
    lists = [[spec("a")], [spec("a"), spec("b", 'a "quoted" — word')], [spec(f"t{n}") for n in range(9)]]
    for specs in lists:
        assert specjson.chars(specs) == len(json.dumps(list(specs)))
        assert specjson.compact(specs) == json.dumps(list(specs), ensure_ascii=False, separators=(",", ":"))
    assert specjson.chars([]) == 0


def test_a_new_spec_is_written_anew_even_at_a_freed_ones_address() -> None:
    # Each spec is made, weighed and dropped at once, as a turn's are: the kept text must follow
    # the object, not an id that a new object can be given.
    for n in range(3 * specjson.KEPT):
        made = spec(f"tool_{n}", f"description {n}")
        assert specjson.compact([made]) == json.dumps([made], ensure_ascii=False, separators=(",", ":"))
    assert len(specjson._known) <= specjson.KEPT


class Named:
    def __init__(self, description: str) -> None:
        self.name = "now"
        self.description = description
        self.parameters: Mapping[str, Any] = {"type": "object", "properties": {}}

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        return "ok"


def test_a_tool_keeps_its_spec_until_it_describes_itself_anew() -> None:
    tool = Named("the time")
    first = ToolRegistry([tool]).specs()[0]
    assert ToolRegistry([tool]).specs()[0] is first  # the same object next turn: its text is kept
    tool.description = "the time where you are"
    changed = ToolRegistry([tool]).specs()[0]
    assert changed["function"]["description"] == "the time where you are"
    assert "where you are" in specjson.compact([changed])
    tool.parameters = {"type": "object", "properties": {"zone": {"type": "string"}}}
    assert "zone" in specjson.compact(ToolRegistry([tool]).specs())
