"""`hearth chat`: a conversation in the terminal, through the same inbox, router and outbox."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings

LOG_NAME = "chat.log"


def _log_to_file(path: Path) -> None:
    """Keep the log out of the conversation: everything goes to `path` instead of the terminal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    root = logging.getLogger()
    if root.handlers:
        handler.setFormatter(root.handlers[0].formatter)
    root.handlers[:] = [handler]


async def _chat(settings: Settings) -> None:
    from aiohttp import web

    from assistant.app import create_app
    from assistant.channels.console import ConsoleChannel, converse, stdin_lines

    channel = ConsoleChannel()
    runner = web.AppRunner(create_app(settings, channels=[channel]))
    await runner.setup()
    try:
        await converse(runner.app, channel, stdin_lines("you> "))
    finally:
        await runner.cleanup()


def chat(settings: Settings, _args: argparse.Namespace) -> int:
    """A conversation in the terminal; history is kept in the same store as every other chat."""
    from assistant.ops.lock import hold

    log = settings.data_dir / LOG_NAME
    _log_to_file(log)
    print(f"(Hearth's log goes to {log}; Ctrl-D ends the conversation)")
    with hold(settings.data_dir):
        try:
            asyncio.run(_chat(settings))
        except KeyboardInterrupt:
            print()
    return 0


RUN = {"chat": chat}
