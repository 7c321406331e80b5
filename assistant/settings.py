"""One frozen Settings object, read once from HEARTH_* environment variables and an optional .env file."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.errors import SettingsError
from assistant.types import Address

# Where a source checkout keeps the skills and the worker image's files; settings can point elsewhere.
REPO_ROOT = Path(__file__).resolve().parents[1]
WORKER_DIR = REPO_ROOT / "containers" / "worker"
SKILLS_DIR = REPO_ROOT / "skills"
DEFAULT_BASE_IMAGE = "python:3.12-slim"

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


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "hearth"


@dataclass(frozen=True)
class Settings:
    """Everything Hearth can be told. Field `x_y` is read from `HEARTH_X_Y`."""

    data_dir: Path = dataclasses.field(default_factory=_default_data_dir)
    database_url: str = ""
    ollama_url: str = "http://127.0.0.1:11434"
    model: str = "qwen3:4b"
    num_ctx: int = 16384
    keep_alive: str = "30m"
    host: str = "127.0.0.1"
    port: int = 8080
    api_token: Secret | None = None
    timezone: ZoneInfo = dataclasses.field(default_factory=lambda: ZoneInfo("UTC"))
    max_concurrent_turns: int = 2
    max_steps: int = 6
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    model_connect_timeout_s: float = 5.0
    model_first_token_timeout_s: float = 120.0
    model_stall_timeout_s: float = 60.0
    model_total_timeout_s: float = 600.0
    drain_timeout_s: float = 10.0
    model_retry_s: float = 5.0
    send_retry_s: float = 2.0
    # sandbox
    skills_dir: Path = SKILLS_DIR
    sandbox_idle_s: float = 300.0
    sandbox_max_containers: int = 8
    worker_base_image: str = DEFAULT_BASE_IMAGE
    worker_image: str = ""
    # swarm
    swarm_concurrency: int = 2
    swarm_max_tasks: int = 5
    swarm_max_depth: int = 1
    swarm_budget_s: float = 600.0
    swarm_max_tokens: int = 200_000
    progress_after_s: float = 15.0
    # scheduler
    job_grace_s: float = 3600.0
    # memory
    embed_model: str = ""
    memory_max_facts: int = 30
    # self-hosting
    worker_dir: Path = WORKER_DIR
    # channels: WhatsApp Cloud API, Twilio, and who may talk to Hearth
    public_url: str | None = None
    whatsapp_verify_token: Secret | None = None
    whatsapp_app_secret: Secret | None = None
    whatsapp_token: Secret | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v26.0"
    whatsapp_template: str | None = None
    whatsapp_template_language: str = "en_US"
    twilio_account_sid: str | None = None
    twilio_auth_token: Secret | None = None
    twilio_sms_from: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    twilio_template_sid: str | None = None
    owners: tuple[Address, ...] = ()
    strangers: Literal["pairing", "ignore"] = "pairing"
    rate_limit_per_min: int = 20
    reply_max_age_s: float = 86400.0

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the store is SQLite on disk, else None."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url.removeprefix(prefix))
        return None


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


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 65535:
        raise ValueError
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError
    return value


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.lower() not in options:
            raise ValueError
        return raw.lower()

    return parse


def _timezone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError from exc


def _url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError
    return raw.rstrip("/")


def _non_empty(raw: str) -> str:
    if not raw.strip():
        raise ValueError
    return raw.strip()


def _secret(raw: str) -> Secret:
    return Secret(_non_empty(raw))


def _addresses(raw: str) -> tuple[Address, ...]:
    """`whatsapp:+1555…, sms:+1555…` → addresses; a part without `kind:` is refused."""
    return tuple(Address.parse(part) for part in raw.split(",") if part.strip())


# Each parser raises ValueError for a bad value; the text after it says what is accepted.
PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "data_dir": (lambda raw: Path(raw).expanduser(), "a directory path"),
    "database_url": (_non_empty, "an SQLAlchemy URL such as sqlite:///path/hearth.db"),
    "ollama_url": (_url, "an http:// or https:// URL"),
    "model": (_non_empty, "an Ollama model name such as qwen3:4b"),
    "num_ctx": (_positive_int, "a whole number of tokens, at least 1"),
    "keep_alive": (_non_empty, "a duration Ollama understands, such as 30m or -1"),
    "host": (_non_empty, "a host name or address to listen on"),
    "port": (_port, "a port number from 1 to 65535"),
    "api_token": (lambda raw: Secret(_non_empty(raw)), "a non-empty token"),
    "timezone": (_timezone, "an IANA time zone name such as Europe/Berlin"),
    "max_concurrent_turns": (_positive_int, "a whole number, at least 1"),
    "max_steps": (_positive_int, "a whole number, at least 1"),
    "log_format": (_choice("text", "json"), "text or json"),
    "log_level": (_choice("debug", "info", "warning", "error"), "debug, info, warning or error"),
    "model_connect_timeout_s": (_positive_float, "a number of seconds above 0"),
    "model_first_token_timeout_s": (_positive_float, "a number of seconds above 0"),
    "model_stall_timeout_s": (_positive_float, "a number of seconds above 0"),
    "model_total_timeout_s": (_positive_float, "a number of seconds above 0"),
    "drain_timeout_s": (_positive_float, "a number of seconds above 0"),
    "model_retry_s": (_positive_float, "a number of seconds above 0"),
    "send_retry_s": (_positive_float, "a number of seconds above 0"),
    # sandbox
    "skills_dir": (lambda raw: Path(raw).expanduser(), "a directory of skills"),
    "sandbox_idle_s": (_positive_float, "a number of seconds above 0"),
    "sandbox_max_containers": (_positive_int, "a whole number, at least 1"),
    "worker_base_image": (_non_empty, "a Docker image name such as python:3.12-slim"),
    "worker_image": (_non_empty, "a Docker image name"),
    # swarm
    "swarm_concurrency": (_positive_int, "a whole number, at least 1"),
    "swarm_max_tasks": (_positive_int, "a whole number, at least 1"),
    "swarm_max_depth": (_non_negative_int, "a whole number, 0 (no teams) or more"),
    "swarm_budget_s": (_positive_float, "a number of seconds above 0"),
    "swarm_max_tokens": (_positive_int, "a whole number of tokens, at least 1"),
    "progress_after_s": (_positive_float, "a number of seconds above 0"),
    # scheduler
    "job_grace_s": (_positive_float, "a number of seconds above 0"),
    # memory
    "embed_model": (_non_empty, "an Ollama embedding model name such as all-minilm"),
    "memory_max_facts": (_positive_int, "a whole number, at least 1"),
    # self-hosting
    "worker_dir": (lambda raw: Path(raw).expanduser(), "the directory holding the worker's Dockerfile"),
    # channels
    "public_url": (_url, "the https:// URL the providers call Hearth at"),
    "whatsapp_verify_token": (_secret, "the verify token entered at Meta"),
    "whatsapp_app_secret": (_secret, "the Meta app secret"),
    "whatsapp_token": (_secret, "a WhatsApp Cloud API access token"),
    "whatsapp_phone_number_id": (_non_empty, "the business phone number id"),
    "whatsapp_api_url": (_url, "an http:// or https:// URL"),
    "whatsapp_api_version": (_non_empty, "a Graph API version such as v26.0"),
    "whatsapp_template": (_non_empty, "the name of an approved template"),
    "whatsapp_template_language": (_non_empty, "a template language code such as en_US"),
    "twilio_account_sid": (_non_empty, "a Twilio account SID (AC…)"),
    "twilio_auth_token": (_secret, "the Twilio auth token"),
    "twilio_sms_from": (_non_empty, "a Twilio phone number such as +15551234567"),
    "twilio_whatsapp_from": (_non_empty, "a WhatsApp-enabled Twilio number such as +14155238886"),
    "twilio_api_url": (_url, "an http:// or https:// URL"),
    "twilio_template_sid": (_non_empty, "a content template SID (HX…)"),
    "owners": (_addresses, "comma-separated addresses such as whatsapp:+15551234567,sms:+15551234567"),
    "strangers": (_choice("pairing", "ignore"), "pairing or ignore"),
    "rate_limit_per_min": (_positive_int, "a whole number of messages, at least 1"),
    "reply_max_age_s": (_positive_float, "a number of seconds above 0"),
}


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


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Environment first, then the .env file, then defaults. A bad value raises SettingsError naming it."""
    source = dict(read_env_file(env_file)) if env_file else {}
    source.update(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = source.get(env_name(f.name))
        if raw is None or raw == "":
            continue
        parse, accepted = PARSERS[f.name]
        try:
            values[f.name] = parse(raw)
        except ValueError:
            raise SettingsError(f"{env_name(f.name)}={raw!r} is not valid: expected {accepted}") from None
    settings = Settings(**values)
    if not settings.database_url:
        url = f"sqlite:///{settings.data_dir / 'hearth.db'}"
        settings = dataclasses.replace(settings, database_url=url)
    return settings
