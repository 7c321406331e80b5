"""Egress that cannot reach home: what the proxy refuses, as a squid configuration, and its log.

A skill with `network = "egress"` runs on an internal Docker network of its own (no route out, and
no address of the host's on it), whose only way out is Debian's squid in the egress container.
Squid resolves every name itself and checks the address it will connect to against `BLOCKED`
before each request, redirects included (a redirect is a new request through the proxy), so a name
that resolves to a private address is refused as the address itself is. The owner opens private
destinations with HEARTH_EGRESS_ALLOW; a manifest may narrow its skill to some hosts.

MCP containers with network = "egress" use the same pieces: `SkillNet` for their network, the
same `squid_conf`, and the proxy's `environment_for`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistant.sandbox.errors import EngineUnavailableError

PORT = 3128
# Everything that is not the public internet: "this" network, RFC 1918, CGNAT, loopback,
# link-local (cloud metadata at 169.254.169.254 included), IETF and documentation ranges,
# benchmarking, multicast, reserved, broadcast; for IPv6 the unspecified and loopback addresses,
# NAT64, discard, Teredo and 6to4 (which embed IPv4), documentation, unique-local (metadata at
# fd00:ec2::254 included), link-local and multicast. IPv4-mapped IPv6 is matched by the IPv4 rules.
BLOCKED = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/32",
    "2001:db8::/32",
    "2002::/16",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
)
_HOST = re.compile(r"\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
_LOG = re.compile(
    r"^(?P<at>\d+\.\d+) (?P<client>\S+) (?P<status>\S+)/(?P<code>\d{3}) (?P<method>\S+) (?P<url>\S+)"
)


class EgressError(EngineUnavailableError):
    """The egress settings or the proxy are unusable; the message says which and why. A skill with
    egress never runs without the proxy: there is no direct way out to fall back to."""


@dataclass(frozen=True)
class SkillNet:
    """One egress skill's network: its subnet, and the hosts it is narrowed to (none: any public)."""

    skill: str
    subnet: str
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Allowed:
    """Private destinations the owner opened: networks (IPs and CIDRs) and host names."""

    networks: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


def host_names(hosts: Iterable[str], where: str) -> tuple[str, ...]:
    """Host names as squid's dstdomain takes them (`.example.org` covers its subdomains)."""
    found = tuple(host.strip().lower().rstrip(".") for host in hosts)
    for host in found:
        if not _HOST.fullmatch(host):
            raise EgressError(f"{where}: {host!r} is not a host name such as api.example.org")
    return found


def allowed(parts: Sequence[str]) -> Allowed:
    """HEARTH_EGRESS_ALLOW's parts sorted into networks and names; EgressError for a bad one."""
    networks: list[str] = []
    names: list[str] = []
    for part in parts:
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            names.extend(host_names([part], "HEARTH_EGRESS_ALLOW"))
    return Allowed(tuple(networks), tuple(names))


def squid_conf(skills: Sequence[SkillNet], allow: Allowed, also_blocked: Sequence[str] = ()) -> str:
    """The whole squid configuration. Rules are checked in order and the first match wins."""
    blocked = " ".join(dict.fromkeys((*BLOCKED, *also_blocked)))
    lines = [
        f"http_port {PORT}",
        "pid_filename none",
        "cache deny all",
        "cache_mem 8 MB",
        "pinger_enable off",
        "coredump_dir /tmp",
        "logfile_rotate 0",
        "cache_log stdio:/dev/stderr",
        "logformat hearth %ts.%03tu %>a %Ss/%03>Hs %rm %ru %<a",
        "access_log stdio:/dev/stdout hearth",
        "via off",
        "forwarded_for delete",
        "httpd_suppress_version_string on",
        "shutdown_lifetime 1 seconds",
        "acl skills src " + " ".join(s.subnet for s in skills),
        f"acl blocked dst {blocked}",
        "acl CONNECT method CONNECT",
        "acl SSL_ports port 443",
        "acl Safe_ports port 80 443",
        "http_access deny !skills",
    ]
    for net in (s for s in skills if s.hosts):
        lines += [
            f"acl skill_{net.skill} src {net.subnet}",
            f"acl hosts_{net.skill} dstdomain -n {' '.join(net.hosts)}",
            f"http_access deny skill_{net.skill} !hosts_{net.skill}",
        ]
    if allow.names:
        # -n: an address in the URL is not looked up backwards, which would let it pass as the name.
        lines += [
            f"acl allowed_names dstdomain -n {' '.join(allow.names)}",
            "http_access allow allowed_names",
        ]
    if allow.networks:
        lines += [f"acl allowed_dst dst {' '.join(allow.networks)}", "http_access allow allowed_dst"]
    lines += [
        "http_access deny blocked",
        "http_access deny CONNECT !SSL_ports",
        "http_access deny !Safe_ports",
        "http_access allow skills",
        "http_access deny all",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Request:
    """One request the proxy logged: who asked (the client address), for what, and the verdict."""

    client: str
    method: str
    url: str
    status: str
    code: int

    @property
    def refused(self) -> bool:
        return self.status.endswith("DENIED")


def parse_log(line: str) -> Request | None:
    """A request from one line of the proxy's access log (the `hearth` format), or None."""
    found = _LOG.match(line.strip())
    if found is None:
        return None
    return Request(found["client"], found["method"], found["url"], found["status"], int(found["code"]))
