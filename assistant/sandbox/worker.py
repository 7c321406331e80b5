"""One warm container: started once, then fed request lines and read for response lines."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any, TypeVar

from assistant.sandbox.errors import EngineUnavailableError, SkillError, SkillTimeoutError, WorkerError
from assistant.sandbox.protocol import FrameDecoder, OutputCollector, parse_response

logger = logging.getLogger(__name__)
T = TypeVar("T")

RECV_BYTES = 65_536
# A cold worker (container start, interpreter, the skill's imports) gets this long to say it is
# ready, on top of and apart from each call's own time limit.
START_TIMEOUT_S = 30.0
READY_ID = "ready"
EXIT_WAIT_S = 2


class DockerWorker:
    """A running worker container. Its async methods run the Docker calls in a thread."""

    def __init__(self, container: Any, attached: Any, skill: str) -> None:
        self._container = container
        # docker-py hands back the response's socket file, or over TLS the TLS socket itself;
        # reads and writes go to the socket.
        self._attached = attached
        self._stream: socket.socket = attached if isinstance(attached, socket.socket) else attached._sock
        self._skill = skill
        self._decoder = FrameDecoder()
        self._output = OutputCollector()
        self.broken = False

    @classmethod
    async def start(cls, client: Any, options: dict[str, Any], skill: str) -> DockerWorker:
        """Create, attach to and start a container, then wait for it to say it is ready.
        EngineUnavailableError if Docker refuses, WorkerError if it never gets ready.

        Cancelled, it still removes the container before it lets the cancellation through (waiting,
        if need be, for an engine call under way, which cannot be interrupted)."""
        worker = await in_thread(lambda: cls._create(client, options, skill), undo=lambda w: w._close())
        await in_thread(worker._wait_ready, interrupt=worker._interrupt, undo=lambda _: worker._close())
        return worker

    @classmethod
    def _create(cls, client: Any, options: dict[str, Any], skill: str) -> DockerWorker:
        import docker.errors

        try:
            container = client.containers.create(**options)
        except docker.errors.DockerException as exc:
            message = f"could not create a container for {skill}: {exc}"
            raise EngineUnavailableError(message) from exc
        try:
            attached = container.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            container.start()
        except docker.errors.DockerException as exc:
            container.remove(force=True)
            raise EngineUnavailableError(f"could not start a container for {skill}: {exc}") from exc
        return cls(container, attached, skill)

    def _wait_ready(self) -> None:
        """Wait for the worker's ready line, so a call's time limit covers only the call itself."""
        try:
            parse_response(self._read_line(time.monotonic() + START_TIMEOUT_S), READY_ID)
        except SkillTimeoutError:
            self._close()
            raise WorkerError(f"the {self._skill} worker did not start in {START_TIMEOUT_S:.0f} s") from None
        except (SkillError, WorkerError):
            self._close()
            raise

    @property
    def container(self) -> Any:
        """The docker-py container, for copying files out of its workspace."""
        return self._container

    def address(self, network: str) -> str:
        """The container's address on `network`. Blocking."""
        self._container.reload()
        return str(self._container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"])

    async def call(self, request: bytes, request_id: str, timeout_s: float) -> str:
        """The result of one request; raises SkillError, SkillTimeoutError or WorkerError."""
        return await asyncio.to_thread(self._call, request, request_id, timeout_s)

    def _call(self, request: bytes, request_id: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        try:
            self._send(request)
            line = self._read_line(deadline)
            return parse_response(line, request_id)
        except (SkillTimeoutError, WorkerError):
            self.broken = True
            self._kill()
            raise
        finally:
            self._log_stderr()

    def _send(self, request: bytes) -> None:
        try:
            self._stream.settimeout(EXIT_WAIT_S)
            self._stream.sendall(request)
        except OSError:
            raise WorkerError(f"the {self._skill} worker is gone") from None

    def _read_line(self, deadline: float) -> bytes:
        while (line := self._output.next_line()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SkillTimeoutError(f"{self._skill} ran past its time limit")
            self._stream.settimeout(remaining)
            try:
                data = self._stream.recv(RECV_BYTES)
            except TimeoutError:
                raise SkillTimeoutError(f"{self._skill} ran past its time limit") from None
            except OSError:
                raise WorkerError(f"lost the connection to the {self._skill} worker") from None
            if not data:
                # Broken already: this end hung up (a cancelled call), so there is no exit to wait for.
                reason = "hung up" if self.broken else self._exit_reason()
                raise WorkerError(f"the {self._skill} worker stopped ({reason})")
            for stream, payload in self._decoder.feed(data):
                self._output.feed(stream, payload)
        return line

    def _exit_reason(self) -> str:
        import docker.errors
        import requests.exceptions

        try:
            status = self._container.wait(timeout=EXIT_WAIT_S).get("StatusCode")
            self._container.reload()
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return "exit status unknown"
        if self._container.attrs.get("State", {}).get("OOMKilled"):
            return "out of memory"
        return f"exit status {status}"

    def _log_stderr(self) -> None:
        text = self._output.take_stderr()
        if text.strip():
            logger.info("skill %s stderr: %s", self._skill, text.rstrip())

    def alive(self) -> bool:
        """Whether the worker can take a request: not broken and its stream not at end of file."""
        if self.broken:
            return False
        if isinstance(self._stream, ssl.SSLSocket):
            return self._readable_over_tls()
        try:
            self._stream.settimeout(0)
            return self._stream.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            return True
        except OSError:
            return False

    def _readable_over_tls(self) -> bool:
        """`alive` for a TLS stream, which cannot peek: what is waiting is read and kept for the
        next call, just as it would have stayed in the socket."""
        try:
            self._stream.settimeout(0)
            data = self._stream.recv(RECV_BYTES)
        except (BlockingIOError, ssl.SSLWantReadError):
            return True
        except OSError:
            return False
        if not data:
            return False
        try:
            for stream, payload in self._decoder.feed(data):
                self._output.feed(stream, payload)
        except WorkerError:
            self.broken = True
            return False
        return True

    async def stop(self) -> None:
        """Kill the container now, from outside a call: a call running in it fails with WorkerError."""
        self.broken = True
        # Shutting the stream down wakes a call blocked reading it. It is not closed here: a
        # descriptor closed under the call's thread could be reused by another socket, which the
        # call would then wait on; the call (or the pool, on discarding) closes it.
        with contextlib.suppress(OSError):
            self._stream.shutdown(socket.SHUT_RDWR)
        await asyncio.to_thread(self._kill_container)

    def _kill(self) -> None:
        # Hang up first: the engine does not finish a kill while output waits to be read.
        self._hang_up()
        self._kill_container()

    def _kill_container(self) -> None:
        import docker.errors
        import requests.exceptions

        # Already stopped is exactly what was wanted.
        with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
            self._container.kill()

    def _interrupt(self) -> None:
        """Mark the worker broken and shut its stream: a thread blocked reading it wakes at once."""
        self.broken = True
        with contextlib.suppress(OSError):  # already closed
            self._stream.shutdown(socket.SHUT_RDWR)

    def _hang_up(self) -> None:
        self._interrupt()
        self._attached.close()  # releases the file's hold, so closing the socket frees it
        if isinstance(self._attached, socket.socket):
            # Over TLS the socket itself was handed back, and the response's file holds it instead.
            response = getattr(self._attached, "_response", None)
            with contextlib.suppress(OSError, ValueError):
                if response is not None:
                    response.close()
        self._stream.close()

    async def close(self) -> None:
        """Remove the container; never raises but CancelledError, and that only once it is gone."""
        await in_thread(self._close)

    def _close(self) -> None:
        import docker.errors
        import requests.exceptions

        try:
            self._hang_up()
            self._container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            logger.exception("could not remove the %s container", self._skill)


async def in_thread(
    fn: Callable[[], T],
    *,
    undo: Callable[[T], None] | None = None,
    interrupt: Callable[[], None] | None = None,
) -> T:
    """`fn()` in a thread. A thread cannot be stopped, so when the caller is cancelled this calls
    `interrupt` (from the event loop), waits for the thread to end, through further cancellations
    too, passes what it made to `undo` in a thread, and only then re-raises the cancellation."""
    future = asyncio.ensure_future(asyncio.to_thread(fn))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        if interrupt is not None:
            interrupt()
        made = await _settled(future)
        if made is not None and undo is not None:
            await _settled(asyncio.ensure_future(asyncio.to_thread(undo, made[0])))
        raise


async def _settled(future: asyncio.Future[T]) -> tuple[T] | None:
    """Wait for `future` however often this is cancelled meanwhile; its result, or None if it failed."""
    while not future.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([future])
    if future.cancelled() or future.exception() is not None:
        return None
    return (future.result(),)
