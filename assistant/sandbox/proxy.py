"""The egress proxy's container and networks, started and removed with the sandbox.

Each egress skill gets an internal network of its own with no address of the host's on it
(`inhibit_ipv4`): its containers can reach nothing but the proxy, which sits on every such network
and on one ordinary bridge out. Checked on Docker 28: without `inhibit_ipv4` an internal network's
containers reach host services on the bridge's address; with it, they do not, and Docker's DNS
resolves no outside names for them. The proxy identifies a skill by the network a request comes
from, which a skill's code cannot choose, and each refused request is logged with the skill, the
chat and the destination. Everything here blocks; the sandbox calls it in a thread.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.sandbox.egress import PORT, Allowed, EgressError, SkillNet, parse_log, squid_conf
from assistant.sandbox.image import context_digest, ensure_image
from assistant.sandbox.manifest import SkillManifest

logger = logging.getLogger(__name__)

IMAGE_REPOSITORY = "hearth-egress"
# Not the sandbox's instance label: the proxy is no skill worker, and outlives their leftovers' removal.
LABEL_EGRESS = "org.hearth.egress"
LABEL_PART = "org.hearth.egress.part"
READY_LINE = "Accepting HTTP Socket connections"
READY_TIMEOUT_S = 30.0
INTERNAL = {"com.docker.network.bridge.inhibit_ipv4": "true"}


def egress_image(client: Any, base_image: str, egress_dir: Path) -> str:
    """The proxy image's tag (Debian's squid on `base_image`), built first if missing."""
    dockerfile = egress_dir / "Dockerfile"
    tag = f"{IMAGE_REPOSITORY}:{context_digest(dockerfile, {}, base_image)}"
    ensure_image(client, tag, dockerfile, {}, {"BASE_IMAGE": base_image})
    return tag


def all_subnets(client: Any) -> list[str]:
    """Every subnet of every Docker network on the engine: none of them is a destination."""
    configs = [c for n in client.networks.list() for c in (n.attrs.get("IPAM") or {}).get("Config") or []]
    return [str(c["Subnet"]) for c in configs if c.get("Subnet")]


def remove_leftovers(client: Any, instance: str) -> None:
    """Remove the proxy containers and networks an earlier run of this instance left."""
    import docker.errors

    labels = {"label": f"{LABEL_EGRESS}={instance}"}
    for container in client.containers.list(all=True, sparse=True, filters=labels):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)
    for network in client.networks.list(filters=labels):
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            network.remove()


@dataclass(frozen=True)
class Route:
    """One client of the proxy with a network of its own: a skill, or an MCP server; and the hosts it
    is narrowed to (none: any public host)."""

    name: str
    hosts: tuple[str, ...] = ()


def skill_routes(skills: Sequence[SkillManifest]) -> list[Route]:
    return [Route(skill.name, skill.permissions.hosts) for skill in skills]


@dataclass
class EgressProxy:
    """Squid in a container on each egress client's network; `start` before use, `close` after."""

    instance: str
    image: str
    allow: Allowed
    extra_hosts: Mapping[str, str] = field(default_factory=dict)
    networks: dict[str, str] = field(default_factory=dict)  # skill -> network name
    addresses: dict[str, str] = field(default_factory=dict)  # skill -> the proxy's address there
    subnets: dict[str, str] = field(default_factory=dict)  # skill -> its network's subnet
    clients: dict[str, tuple[str, str]] = field(default_factory=dict)  # address -> (skill, chat)
    out_network: str = ""
    _container: Any = None
    _nets: list[Any] = field(default_factory=list)
    _token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def start(self, client: Any, routes: Sequence[Route]) -> None:
        """Create a network per route and the proxy, and wait until it accepts requests; EgressError."""
        remove_leftovers(client, self.instance)
        labels = {LABEL_EGRESS: self.instance, LABEL_PART: "network"}
        out = client.networks.create(f"{self.instance}-{self._token}-out", driver="bridge", labels=labels)
        self._nets.append(out)
        self.out_network = out.name
        planned = [self._skill_net(client, route, labels) for route in routes]
        conf = squid_conf(planned, self.allow, all_subnets(client))
        self._container = client.containers.create(**self._options(out.name, conf))
        for route in routes:
            client.networks.get(self.networks[route.name]).connect(self._container)
        self._container.start()
        self._wait_ready()
        self._container.reload()
        attached = self._container.attrs["NetworkSettings"]["Networks"]
        self.addresses = {skill: attached[name]["IPAddress"] for skill, name in self.networks.items()}
        threading.Thread(target=self._follow, name="egress-log", daemon=True).start()

    def _skill_net(self, client: Any, route: Route, labels: dict[str, str]) -> SkillNet:
        name = f"{self.instance}-{self._token}-{route.name}"
        net = client.networks.create(name, driver="bridge", internal=True, options=INTERNAL, labels=labels)
        self._nets.append(net)
        net.reload()
        self.networks[route.name] = name
        subnet = net.attrs["IPAM"]["Config"][0]["Subnet"]
        self.subnets[route.name] = subnet
        return SkillNet(route.name, subnet, route.hosts)

    def _options(self, network: str, conf: str) -> dict[str, Any]:
        return {
            "image": self.image,
            "name": f"{self.instance}-{self._token}-proxy",
            "environment": {"HEARTH_SQUID_CONF": conf},
            "network": network,
            "extra_hosts": dict(self.extra_hosts),
            "read_only": True,
            "tmpfs": {
                "/tmp": "rw,nosuid,nodev,size=32m",  # noqa: S108 (the container's own /tmp)
                "/var/spool/squid": "rw,size=8m",
                "/run": "rw,size=1m",
            },
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
            "mem_limit": "256m",
            "pids_limit": 128,
            "labels": {LABEL_EGRESS: self.instance, LABEL_PART: "proxy"},
        }

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self._container.reload()
            text = self._container.logs(stdout=True, stderr=True).decode(errors="replace")
            if READY_LINE in text:
                return
            if self._container.status == "exited":
                break
            time.sleep(0.1)
        tail = self._container.logs(stdout=True, stderr=True, tail=20).decode(errors="replace")
        raise EgressError(f"the egress proxy did not start: {tail.strip() or 'no output'}")

    def _follow(self) -> None:
        """Log every refused request with its skill, its chat and its destination."""
        try:
            buffer = b""
            for chunk in self._container.logs(stream=True, follow=True, stdout=True, stderr=False):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    self._note(line.decode(errors="replace"))
        except Exception:  # the container went away: the sandbox is closing
            logger.debug("stopped following the egress proxy's log", exc_info=True)

    def _note(self, line: str) -> None:
        request = parse_log(line)
        if request is None or not request.refused:
            return
        skill, chat = self.clients.get(request.client, (self._skill_of(request.client), "?"))
        logger.warning("egress refused: skill %s, chat %s, %s %s", skill, chat, request.method, request.url)

    def _skill_of(self, address: str) -> str:
        with contextlib.suppress(ValueError):
            for skill, subnet in self.subnets.items():
                if ipaddress.ip_address(address) in ipaddress.ip_network(subnet):
                    return skill
        return "?"

    def environment_for(self, skill: str) -> dict[str, str]:
        """What a skill container needs to go through the proxy (upper and lower case, as tools differ)."""
        url = f"http://{self.addresses[skill]}:{PORT}"
        names = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
        return {**dict.fromkeys(names, url), "NO_PROXY": "", "no_proxy": ""}

    def close(self, client: Any) -> None:
        """Remove the proxy and its networks. Blocking."""
        import docker.errors

        if self._container is not None:
            with contextlib.suppress(docker.errors.NotFound):
                self._container.remove(force=True)
            self._container = None
        for net in self._nets:
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                net.remove()
        self._nets.clear()
