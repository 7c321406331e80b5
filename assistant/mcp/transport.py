"""MCP over a container's attached stdin and stdout: the SDK's session is fed from Docker's attach
stream, one JSON-RPC message per line, and the container is removed when the session ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import mcp_types
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from assistant.sandbox.protocol import STDERR, FrameDecoder

# The SDK is imported only when a server starts (see assistant.mcp.session for why).
if TYPE_CHECKING:
    from mcp.shared.message import SessionMessage

logger = logging.getLogger(__name__)

LINE_LIMIT_BYTES = 4_000_000
STDERR_LINE_CHARS = 500
READ_BYTES = 65_536
EXIT_WAIT_S = 2.0

Streams = tuple[
    "MemoryObjectReceiveStream[SessionMessage | Exception]", "MemoryObjectSendStream[SessionMessage]"
]


class TransportError(Exception):
    """The container could not be started, or broke the protocol's framing."""


def _start(client: Any, options: dict[str, Any]) -> tuple[Any, Any]:
    """Create, attach to and start the container (blocking). Attaching first loses no output."""
    import docker.errors

    try:
        container = client.containers.create(**options)
    except docker.errors.DockerException as exc:
        raise TransportError(f"could not create the container: {exc}") from exc
    try:
        attached = container.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        container.start()
    except docker.errors.DockerException as exc:
        container.remove(force=True)
        raise TransportError(f"could not start the container: {exc}") from exc
    return container, attached


def _exit_reason(container: Any) -> str:
    """How the container ended, once it has (blocking)."""
    import docker.errors
    import requests.exceptions

    try:
        status = container.wait(timeout=EXIT_WAIT_S).get("StatusCode")
        container.reload()
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return "the server stopped"
    if container.attrs.get("State", {}).get("OOMKilled"):
        return "the server ran out of memory"
    return f"the server exited with status {status}"


def _remove(container: Any) -> None:
    import docker.errors
    import requests.exceptions

    with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
        container.remove(force=True)


class ContainerTransport:
    """A Transport for `mcp.Client`: one container per use, started on enter and removed on exit.

    `ended` is set when the server's output ends (it exited, or was killed); `reason` says how.
    """

    def __init__(self, docker_client: Any, options: dict[str, Any], name: str) -> None:
        self._docker = docker_client
        self._options = options
        self.name = name
        self.ended = asyncio.Event()
        self.reason = ""
        self._container: Any = None
        self._attached: Any = None
        self._writer: asyncio.StreamWriter | None = None
        self._group: TaskGroup | None = None

    @property
    def container(self) -> Any:
        return self._container

    async def __aenter__(self) -> Streams:
        self._container, self._attached = await asyncio.to_thread(_start, self._docker, self._options)
        try:
            # docker-py hands back the response's socket file; the socket under it is what carries data.
            reader, self._writer = await asyncio.open_connection(sock=self._attached._sock)
        except OSError as exc:
            await asyncio.to_thread(_remove, self._container)
            raise TransportError(f"could not attach to the container: {exc}") from exc
        from mcp.shared.message import SessionMessage

        to_session, from_server = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        to_server, from_session = anyio.create_memory_object_stream[SessionMessage](0)
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._read, reader, to_session)
        self._group.start_soon(self._write, from_session)
        return from_server, to_server

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Close stdin (the server's signal to stop), give it a moment, then remove the container."""
        if self._writer is not None and not self._writer.is_closing():
            with contextlib.suppress(OSError):
                self._writer.write_eof()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ended.wait(), EXIT_WAIT_S)
        if self._group is not None:
            self._group.cancel_scope.cancel()
            await self._group.__aexit__(None, None, None)
        if self._writer is not None:
            self._writer.close()
        self._attached.close()  # releases docker-py's hold on the socket the writer just closed
        await asyncio.to_thread(_remove, self._container)

    async def _read(
        self, reader: asyncio.StreamReader, to_session: MemoryObjectSendStream[SessionMessage | Exception]
    ) -> None:
        try:
            async with to_session:
                await self._pump(reader, to_session)
                if not self.reason:
                    self.reason = await asyncio.to_thread(_exit_reason, self._container)
        finally:
            self.ended.set()

    async def _pump(
        self, reader: asyncio.StreamReader, to_session: MemoryObjectSendStream[SessionMessage | Exception]
    ) -> None:
        """Demultiplex the attach stream until it ends: stdout lines to the session, stderr to the log."""
        decoder, pending, stderr = FrameDecoder(), bytearray(), bytearray()
        try:
            while data := await reader.read(READ_BYTES):
                for stream, payload in decoder.feed(data):
                    if stream == STDERR:
                        stderr = self._log_stderr(stderr + payload)
                        continue
                    pending += payload
                    for line in _lines(pending):
                        await to_session.send(_parse(line))
        except (OSError, TransportError) as exc:
            self.reason = str(exc) if isinstance(exc, TransportError) else f"lost the server ({exc})"
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                await to_session.send(TransportError(self.reason))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # the session is gone

    def _log_stderr(self, buffer: bytearray) -> bytearray:
        """Log whole stderr lines (servers may log there freely); keep the unfinished rest."""
        *lines, rest = bytes(buffer).split(b"\n")
        for line in lines:
            text = line.decode("utf-8", "replace").strip()
            if text:
                logger.info("mcp %s: %s", self.name, text[:STDERR_LINE_CHARS])
        return bytearray(rest[-LINE_LIMIT_BYTES:])

    async def _write(self, from_session: MemoryObjectReceiveStream[SessionMessage]) -> None:
        assert self._writer is not None
        async with from_session:
            try:
                async for message in from_session:
                    line = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    self._writer.write(line.encode() + b"\n")
                    await self._writer.drain()
            except OSError as exc:
                logger.info("mcp %s: writing to the server failed (%s)", self.name, exc)


def _lines(pending: bytearray) -> list[bytes]:
    """Take the complete lines out of `pending`; TransportError once an unfinished line is too long."""
    *lines, rest = bytes(pending).split(b"\n")
    if len(rest) > LINE_LIMIT_BYTES:
        raise TransportError(f"the server sent a message larger than {LINE_LIMIT_BYTES} bytes")
    pending[:] = rest
    return [line for line in lines if line.strip()]


def _parse(line: bytes) -> SessionMessage | Exception:
    """One line as a JSON-RPC message, or the error itself for the session to report."""
    from mcp.shared.message import SessionMessage

    try:
        return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        logger.warning("an MCP server sent a line that is not a JSON-RPC message")
        return exc
