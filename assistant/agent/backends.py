"""Several Ollama servers behind one model: healthy ones that have the model first, least busy first."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx
import ollama

from assistant.backoff import doubling_s

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0


def split_urls(text: str) -> list[str]:
    """The servers in a comma-separated HEARTH_OLLAMA_URL, in the order given."""
    return [part.strip().rstrip("/") for part in text.split(",") if part.strip()]


def public_url(url: str) -> str:
    """`url` without any user name or password, fit for /status and /metrics."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(eq=False)
class Backend:
    """One Ollama server and what Hearth knows of it."""

    url: str
    client: ollama.AsyncClient
    in_flight: int = 0
    calls: int = 0
    failing: bool = False
    lacks: set[str] = field(default_factory=set)
    probe: asyncio.Task[None] | None = None

    @property
    def label(self) -> str:
        return public_url(self.url)


class Backends:
    """The servers of one HEARTH_OLLAMA_URL. A failing server is skipped and probed with backoff until it
    answers; with several servers each runs at most `cap` calls at once (a lone server is not capped
    here: it queues what it cannot run itself, as it always did)."""

    def __init__(
        self, urls: list[str], make_client: Callable[[str], ollama.AsyncClient], cap: int, retry_s: float
    ) -> None:
        self.servers = [Backend(url, make_client(url)) for url in urls]
        self.cap = cap if len(self.servers) > 1 else sys.maxsize
        self.retry_s = retry_s
        self._freed = asyncio.Condition()

    def order(self, model: str) -> list[Backend]:
        """Healthy servers that may have `model`, least busy first; when there are none, every server
        (so a lone server is always tried, as a single URL always was)."""
        usable = [b for b in self.servers if not b.failing and model not in b.lacks]
        return sorted(usable or self.servers, key=lambda b: b.in_flight)

    @contextlib.asynccontextmanager
    async def slot(self, backend: Backend) -> AsyncIterator[None]:
        """Hold one of `backend`'s `cap` places for the length of a call."""
        async with self._freed:
            await self._freed.wait_for(lambda: backend.in_flight < self.cap)
            backend.in_flight += 1
            backend.calls += 1
        try:
            yield
        finally:
            async with self._freed:
                backend.in_flight -= 1
                self._freed.notify_all()

    def failed(self, backend: Backend, reason: str) -> None:
        """Skip `backend` until a probe of it succeeds."""
        if backend.failing:
            return
        logger.warning("Ollama at %s is failing (%s); using the others", backend.label, reason)
        backend.failing = True
        backend.probe = asyncio.create_task(self._probe(backend))

    def recovered(self, backend: Backend) -> None:
        if backend.failing:
            logger.info("Ollama at %s answers again", backend.label)
        backend.failing = False
        if backend.probe is not None and backend.probe is not asyncio.current_task():
            backend.probe.cancel()
        backend.probe = None

    async def _probe(self, backend: Backend) -> None:
        for attempt in itertools.count(1):
            await asyncio.sleep(doubling_s(attempt, self.retry_s, MAX_BACKOFF_S))
            try:
                await backend.client.list()
            except (ollama.ResponseError, ConnectionError, httpx.HTTPError):
                continue
            # What it lacked may have been pulled while it was away.
            backend.lacks.clear()
            self.recovered(backend)
            return

    async def close(self) -> None:
        for backend in self.servers:
            if backend.probe is not None:
                backend.probe.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await backend.probe
            await backend.client._client.aclose()

    def status_lines(self) -> list[str]:
        """One /status line per server."""
        return [
            f"Ollama {b.label}: {'failing' if b.failing else 'healthy'}, "
            f"{b.in_flight} in flight, {b.calls} calls"
            for b in self.servers
        ]

    def metric_lines(self) -> list[str]:
        """Per-server gauges and counters in Prometheus' text format, labelled by URL."""
        lines: list[str] = []
        for name, kind, text, value in (
            ("hearth_ollama_up", "gauge", "1 when the server answers, 0 while it is failing.", _up),
            ("hearth_ollama_in_flight", "gauge", "Model calls running on the server now.", _in_flight),
            ("hearth_ollama_calls_total", "counter", "Model calls sent to the server.", _calls),
        ):
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            lines += [f'{name}{{url="{b.label}"}} {value(b)}' for b in self.servers]
        return lines


def _up(backend: Backend) -> int:
    return 0 if backend.failing else 1


def _in_flight(backend: Backend) -> int:
    return backend.in_flight


def _calls(backend: Backend) -> int:
    return backend.calls
