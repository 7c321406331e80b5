"""The pieces settings are read with: secrets that never print, value parsers and the .env reader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.types import Address

PREFIX = "HEARTH_"


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


def env_name(field_name: str) -> str:
    return PREFIX + field_name.upper()


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


def port(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 65535:
        raise ValueError
    return value


def positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError
    return value


def choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.lower() not in options:
            raise ValueError
        return raw.lower()

    return parse


def timezone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError from exc


def url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError
    return raw.rstrip("/")


def non_empty(raw: str) -> str:
    if not raw.strip():
        raise ValueError
    return raw.strip()


def flag(raw: str) -> bool:
    """1/true/yes/on or 0/false/no/off, in any case."""
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError


def secret(raw: str) -> Secret:
    return Secret(non_empty(raw))


def addresses(raw: str) -> tuple[Address, ...]:
    """`whatsapp:+1555…, sms:+1555…` → addresses; a part without `kind:` is refused."""
    return tuple(Address.parse(part) for part in raw.split(",") if part.strip())


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; blank lines and # comments are skipped, one pair of quotes is removed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values
