"""The Sandbox protocol and its Docker implementation: warm, locked-down containers per chat."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from assistant.sandbox.config import SandboxConfig
from assistant.sandbox.container import (
    WORKER_UID,
    Egress,
    container_options,
    instance_filter,
    workspace_dir_name,
)
from assistant.sandbox.egress import EgressError, allowed
from assistant.sandbox.engine import workspace_kind
from assistant.sandbox.errors import EngineUnavailableError, SandboxError
from assistant.sandbox.host_paths import PathMap, path_map
from assistant.sandbox.image import ensure_worker_image
from assistant.sandbox.manifest import SkillManifest
from assistant.sandbox.pool import WarmPool
from assistant.sandbox.protocol import encode_request
from assistant.sandbox.proxy import EgressProxy, egress_image, skill_routes
from assistant.sandbox.quota import Folder, Workspace, within_limit
from assistant.sandbox.volumes import Volume, ensure_volume, volume_name
from assistant.sandbox.worker import DockerWorker, in_thread

logger = logging.getLogger(__name__)


class Sandbox(Protocol):
    """Runs a skill's code somewhere it can do only what its manifest grants."""

    async def run(
        self, skill: SkillManifest, args: Mapping[str, Any], chat_key: str, call_key: str = ""
    ) -> str:
        """The skill's result; raises SkillError, SkillTimeoutError, WorkerError or
        EngineUnavailableError."""
        ...


class DockerSandbox:
    """Skills in Docker containers kept warm per (skill, chat). Docker is reached lazily; the egress
    proxy starts with it when `egress_skills` names skills with network = "egress"."""

    def __init__(self, config: SandboxConfig, egress_skills: Sequence[SkillManifest] = ()) -> None:
        self.config = config
        self.egress_skills = [s for s in egress_skills if s.permissions.network == "egress"]
        self.proxy: EgressProxy | None = None
        self.pool: WarmPool[DockerWorker] = WarmPool(config.max_containers, config.idle_s)
        self._client: Any = None
        self._image: str | None = config.image
        self._to_host: PathMap = lambda path: path
        # Folders bind-mounted from this machine, or named volumes on an engine elsewhere.
        self.workspace_kind = workspace_kind(config.skill_workspaces, os.environ)
        self._setup_lock = asyncio.Lock()
        # Why the sandbox could not start, for the dashboard; skill calls then say it is unavailable.
        self.error: str | None = None
        self._proxy_lock = asyncio.Lock()

    async def start(self) -> None:
        """Remove this instance's leftovers, make sure the image exists, start evicting."""
        # Evicting starts first, so a sandbox that finds no engine yet still cleans up later.
        self.pool.start()
        await self._ready()
        if self.egress_skills:
            try:
                await self._proxy_ready()
            except SandboxError:
                logger.exception("the egress proxy could not start; skills with egress wait for it")

    async def close(self) -> None:
        """Remove every container this sandbox started, then the egress proxy and its networks."""
        await self.pool.close()
        if self.proxy is not None:
            await asyncio.to_thread(self.proxy.close, self._client)
            self.proxy = None
        if self._client is not None:
            await asyncio.to_thread(self._client.close)
            self._client = None

    async def run(
        self, skill: SkillManifest, args: Mapping[str, Any], chat_key: str, call_key: str = ""
    ) -> str:
        """See `Sandbox.run`. Arguments must already be valid for the skill."""
        client, image = await self._ready()
        request_id = uuid.uuid4().hex
        request = encode_request(request_id, skill.name, args, call_key)
        if skill.permissions.network == "egress":
            await self._proxy_ready()
        egress = self._egress_for(skill)

        async def start_worker() -> DockerWorker:
            workspace = await asyncio.to_thread(self._workspace_for, skill, chat_key, image)
            options = container_options(skill, image, self.config.instance, chat_key, workspace, egress)
            worker = await DockerWorker.start(client, options, skill.name)
            if egress is not None and self.proxy is not None:
                # The proxy's log names clients by address; this one is (skill, chat).
                network = egress[0]
                try:
                    address = await in_thread(lambda: worker.address(network))
                except BaseException:
                    await worker.close()  # not in the pool yet: no one else would
                    raise
                self.proxy.clients[address] = (skill.name, chat_key)
            return worker

        async with self.pool.lease((skill.name, chat_key), start_worker) as worker:
            call = functools.partial(worker.call, request, request_id, skill.limits.timeout_s)
            if skill.permissions.workspace != "chat":
                return await call()
            workspace = self._measured(chat_key, worker, image)
            return await within_limit(workspace, self.config.workspace_max_mb, worker, call)

    def _measured(self, chat_key: str, worker: DockerWorker, image: str) -> Workspace:
        """The chat's workspace as the quota reads it: the folder, or the volume through `worker`."""
        if self.workspace_kind == "bind":
            return Folder(workspace_path(self.config.workspaces_dir, chat_key))
        name = volume_name(chat_key)
        return Volume(self._client, worker.container, image, self.config.instance, name)

    def _egress_for(self, skill: SkillManifest) -> Egress | None:
        if skill.permissions.network != "egress":
            return None
        if self.proxy is None or skill.name not in self.proxy.networks:
            raise EgressError(f"the egress proxy is not running for {skill.name}")
        return self.proxy.networks[skill.name], self.proxy.environment_for(skill.name)

    async def _ready(self) -> tuple[Any, str]:
        async with self._setup_lock:
            if self._client is None:
                self._client = await asyncio.to_thread(self._connect)
            if self._image is None:
                self._image = await asyncio.to_thread(
                    ensure_worker_image,
                    self._client,
                    self.config.base_image,
                    self.config.skills_dir,
                    self.config.worker_dir,
                )
            return self._client, self._image

    async def _proxy_ready(self) -> EgressProxy:
        """The egress proxy, started on first need; a failure fails only the skills with egress."""
        await self._ready()
        async with self._proxy_lock:
            if self.proxy is None:
                self.proxy = await asyncio.to_thread(self._start_proxy)
            return self.proxy

    def _start_proxy(self) -> EgressProxy:
        config = self.config
        image = egress_image(self._client, config.base_image, config.egress_dir)
        proxy = EgressProxy(config.instance, image, allowed(config.egress_allow), dict(config.egress_hosts))
        try:
            proxy.start(self._client, skill_routes(self.egress_skills))
        except Exception:
            proxy.close(self._client)
            raise
        logger.info("egress proxy started for %s", ", ".join(proxy.networks))
        return proxy

    def _connect(self) -> Any:
        import docker

        try:
            client = docker.from_env()
        except docker.errors.DockerException as exc:
            raise EngineUnavailableError(f"no Docker engine answered: {exc}") from exc
        removed = remove_leftovers(client, self.config.instance)
        if removed:
            logger.info("removed %d containers left over from a previous run", removed)
        if self.workspace_kind == "bind":
            self._to_host = path_map(client)
        return client

    def _workspace_for(self, skill: SkillManifest, chat_key: str, image: str) -> Path | str | None:
        if skill.permissions.workspace != "chat":
            return None
        if self.workspace_kind == "volume":
            return ensure_volume(self._client, image, self.config.instance, chat_key)
        # The engine resolves bind mounts on the host, which differs when Hearth runs in a container.
        return self._to_host(ensure_workspace(self.config.workspaces_dir, chat_key))


def remove_leftovers(client: Any, instance: str) -> int:
    """Force-remove every container labelled as this instance's; how many there were. Blocking."""
    import docker.errors

    containers = client.containers.list(all=True, sparse=True, filters=instance_filter(instance))
    for container in containers:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)
    return len(containers)


def workspace_path(workspaces_dir: Path, chat_key: str) -> Path:
    """Where the chat's workspace is, as this process sees it."""
    return (workspaces_dir / workspace_dir_name(chat_key)).resolve()


def ensure_workspace(workspaces_dir: Path, chat_key: str) -> Path:
    """The chat's workspace directory, created and writable by the worker's user. Blocking."""
    path = workspace_path(workspaces_dir, chat_key)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chown(path, WORKER_UID, WORKER_UID)
    except PermissionError:
        # Not root: the worker's uid cannot be given the directory, so it must be open to it.
        path.chmod(0o777)
    return path
