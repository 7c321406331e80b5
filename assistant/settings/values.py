"""How setting values are read: parsers, secrets that never print, where a checkout keeps its files."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.types import Address

# Where a source checkout keeps the skills and the worker image's files; settings can point elsewhere.
REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER_DIR = REPO_ROOT / "containers" / "worker"
SKILLS_DIR = REPO_ROOT / "skills"
DEFAULT_BASE_IMAGE = "python:3.12-slim"

Parse = Callable[[str], Any]


def setting(
    parse: Parse, accepted: str, default: Any = None, *, factory: Callable[[], Any] | None = None
) -> Any:
    """A field of Settings: `parse` turns the variable's text into the value or raises ValueError, and
    `accepted` says, for the error, what it takes."""
    metadata = {"parse": parse, "accepted": accepted}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Secret:
    """A value that never prints: logs and tracebacks show asterisks."""

    value: str

    MASK: ClassVar[str] = "**********"

    def __repr__(self) -> str:
        return f"Secret('{self.MASK}')"

    def __str__(self) -> str:
        return self.MASK


def masked_url(url: str) -> str:
    """`url` with any password replaced by asterisks, for printing: `postgresql://hearth:***@db/hearth`."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:{Secret.MASK}@{host}"


def path(raw: str) -> Path:
    return Path(raw).expanduser()


def positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError
    return value


def non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError
    return value


def port_number(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 65535:
        raise ValueError
    return value


def positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError
    return value


def choice(*options: str) -> Parse:
    def parse(raw: str) -> str:
        if raw.lower() not in options:
            raise ValueError
        return raw.lower()

    return parse


def zone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError from exc


def url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError
    return raw.rstrip("/")


def urls(raw: str) -> str:
    """One or more http(s) URLs, comma-separated; kept as one comma-separated string."""
    found = [url(part.strip()) for part in raw.split(",") if part.strip()]
    if not found:
        raise ValueError
    return ",".join(found)


def non_empty(raw: str) -> str:
    if not raw.strip():
        raise ValueError
    return raw.strip()


def flag(raw: str) -> bool:
    """1/0, true/false, yes/no, on/off."""
    word = raw.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError


def host_names(raw: str) -> tuple[str, ...]:
    """`hearth.lan, 192.168.1.5` → lower-case host names; a part with a scheme, port or path is refused."""
    names = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    if any(any(mark in name for mark in "/:@ ") for name in names):
        raise ValueError
    return names


def names(raw: str) -> tuple[str, ...]:
    """`nas.lan, 10.0.0.0/8` → the parts, lower-case (checked where they are used: sandbox/egress.py)."""
    return tuple(part.strip().lower() for part in raw.split(",") if part.strip())


def secret(raw: str) -> Secret:
    return Secret(non_empty(raw))


def addresses(raw: str) -> tuple[Address, ...]:
    """`whatsapp:+1555…, sms:+1555…` → addresses; a part without `kind:` is refused."""
    return tuple(Address.parse(part) for part in raw.split(",") if part.strip())
