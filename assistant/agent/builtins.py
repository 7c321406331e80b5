"""Built-in tools: trusted host code the model may call."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.agent.tools import ToolContext, ToolError


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or a ToolError that says what is accepted."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolError(f"{name!r} is not an IANA time zone name; use one such as Europe/Berlin") from None


class GetTime:
    """The current date and time in a given zone, or in the chat's."""

    effect = False
    untrusted = False
    name = "get_time"
    description = "The current date and time, in the person's time zone or another."
    parameters: Mapping[str, Any] = {
        "type": "object",
        "properties": {
            "timezone": {
                "type": "string",
                "description": "IANA zone such as Asia/Tokyo; omit for the person's",
            }
        },
    }

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        raw = args.get("timezone")
        tz = zone(raw) if isinstance(raw, str) and raw.strip() else ctx.timezone
        local = ctx.now.astimezone(tz)
        return json.dumps(
            {
                "time": local.isoformat(timespec="minutes"),
                "weekday": f"{local:%A}",
                "timezone": str(tz),
            }
        )
