"""Waiting for a message to be handled, without polling the database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class Handled:
    """Futures keyed by message id, resolved when a turn closes that message."""

    def __init__(self) -> None:
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}

    @contextmanager
    def watch(self, message_id: int) -> Iterator[asyncio.Future[None]]:
        """Register before checking the database, so a turn closing in between is not missed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(message_id, []).append(future)
        try:
            yield future
        finally:
            waiters = self._waiters.get(message_id, [])
            if future in waiters:
                waiters.remove(future)
            if not waiters:
                self._waiters.pop(message_id, None)

    def fire(self, message_ids: Iterable[int]) -> None:
        for message_id in message_ids:
            for future in self._waiters.pop(message_id, []):
                if not future.done():
                    future.set_result(None)
