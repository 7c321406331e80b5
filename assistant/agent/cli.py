"""`hearth pull`: fetch the configured model into Ollama, with a progress bar."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings


def bar(status: str, completed: int | None, total: int | None, width: int = 30) -> str:
    """`pulling abc… [#########.....]  45%` for a status with sizes, the bare status otherwise."""
    if not total:
        return f"{status:<60}"
    share = min((completed or 0) / total, 1.0)
    filled = int(share * width)
    return f"{status[:40]:<40} [{'#' * filled}{'.' * (width - filled)}] {share:4.0%}"


async def _pull(settings: Settings) -> None:
    from assistant.agent.model import OllamaModel, model_options

    model = OllamaModel(model_options(settings))
    try:
        async for progress in model.pull():
            print("\r" + bar(progress.status or "", progress.completed, progress.total), end="", flush=True)
        print()
    finally:
        await model.close()


def pull(settings: Settings, _args: argparse.Namespace) -> int:
    """Pull the configured model into Ollama; ModelUnavailable when Ollama is down or refuses."""
    asyncio.run(_pull(settings))
    print(f"{settings.model} is ready.")
    return 0


RUN = {"pull": pull}
