"""Slash commands: answered by Hearth itself, never by the model."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from assistant.store.tables import Chat


@dataclass(frozen=True)
class CommandContext:
    """A command's chat, its arguments, and the role of the person who sent it."""

    chat: Chat
    args: str
    now: datetime
    role: str = "owner"


Handler = Callable[[CommandContext], Awaitable[str]]


def command_name(text: str) -> str | None:
    """`reset` for `/reset`, `/Reset please`; None when the text is not a command."""
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] != "/" or not stripped[1].isalpha():
        return None
    return stripped[1:].split(maxsplit=1)[0].lower()


class Commands:
    """The commands Hearth knows; later parts add theirs at start-up."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[str, Handler]] = {"help": ("this list", self._help)}

    def add(self, name: str, summary: str, handler: Handler) -> None:
        if name in self._handlers:
            raise ValueError(f"a command /{name} is already registered")
        self._handlers[name] = (summary, handler)

    def matches(self, text: str) -> bool:
        return command_name(text) is not None

    async def run(self, text: str, chat: Chat, now: datetime, role: str = "owner") -> str:
        name = command_name(text) or ""
        if name not in self._handlers:
            return f"I don't know /{name}. Send /help for the commands I know."
        args = text.strip()[len(name) + 1 :].strip()
        return await self._handlers[name][1](CommandContext(chat, args, now, role))

    async def _help(self, ctx: CommandContext) -> str:
        lines = [f"/{name} - {summary}" for name, (summary, _) in sorted(self._handlers.items())]
        return "Commands:\n" + "\n".join(lines)
