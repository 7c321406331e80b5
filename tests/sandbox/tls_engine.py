"""The local engine behind TLS on a loopback port, so tests reach it the way Hearth reaches a remote one.

Certificates are made with openssl (a CA, a server certificate for 127.0.0.1, a client one), as
`dockerd --tlsverify` would be given them; a small forwarder ends TLS, requiring the client's
certificate, and carries the bytes on to the engine's socket. Restarting the machine's engine to
listen on TCP would disturb everything else using it.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import subprocess
import threading
from pathlib import Path

ENGINE_SOCKET = "/var/run/docker.sock"
CURVE = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
CHUNK_BYTES = 65_536


OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


def openssl(directory: Path, *args: str) -> None:
    subprocess.run([OPENSSL, *args], cwd=directory, check=True, capture_output=True)


def signed(directory: Path, name: str, usage: str) -> None:
    """`name`-key.pem and `name`-cert.pem, signed by the CA in `directory`."""
    openssl(
        directory, "req", *CURVE, "-keyout", f"{name}-key.pem", "-out", f"{name}.csr", "-subj", f"/CN={name}"
    )
    (directory / f"{name}.ext").write_text(f"subjectAltName=IP:127.0.0.1\nextendedKeyUsage={usage}\n")
    openssl(
        directory, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
        "-CAcreateserial", "-days", "2", "-out", f"{name}-cert.pem", "-extfile", f"{name}.ext",
    )  # fmt: skip


def make_certificates(directory: Path) -> Path:
    """A CA, a server certificate and a client one in `directory`, the client's under the names
    DOCKER_CERT_PATH wants (ca.pem, cert.pem, key.pem); `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    openssl(directory, "req", "-x509", *CURVE, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=hearth-test-ca")  # fmt: skip
    signed(directory, "server", "serverAuth")
    signed(directory, "client", "clientAuth")
    (directory / "cert.pem").write_bytes((directory / "client-cert.pem").read_bytes())
    (directory / "key.pem").write_bytes((directory / "client-key.pem").read_bytes())
    return directory


class TlsEngine:
    """A TLS listener on 127.0.0.1 in front of the engine's socket, run on its own thread and loop
    (the Docker client blocks, and may block the tests' loop). `connections` counts TLS clients."""

    def __init__(self, certs: Path, engine_socket: str = ENGINE_SOCKET) -> None:
        self.certs = certs
        self.engine_socket = engine_socket
        self.connections = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tls-engine", daemon=True)
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    def context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(self.certs / "ca.pem"))
        context.load_cert_chain(self.certs / "server-cert.pem", self.certs / "server-key.pem")
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    def start(self) -> str:
        """Listen; the DOCKER_HOST that reaches the engine through this listener."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=10)
        return f"tcp://127.0.0.1:{self.port}"

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, ssl=self.context())
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._carry(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        engine_writer: asyncio.StreamWriter | None = None
        try:
            self._writers.add(writer)
            engine_reader, engine_writer = await asyncio.open_unix_connection(self.engine_socket)
            self._writers.add(engine_writer)
            await asyncio.gather(pipe(reader, engine_writer), pipe(engine_reader, writer))
        except OSError:
            pass
        finally:
            for each in (writer, engine_writer):
                if each is not None:
                    self._writers.discard(each)
                    each.close()
                    with contextlib.suppress(OSError, ssl.SSLError):
                        await each.wait_closed()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        # Connections still open are cut, not shut down politely: nothing is left to say on them.
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    """Copy until `source` ends, then end `target`'s writing side (or close it, for TLS, which
    cannot half-close)."""
    try:
        while data := await source.read(CHUNK_BYTES):
            target.write(data)
            await target.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            if target.can_write_eof():
                target.write_eof()
            else:
                target.close()
