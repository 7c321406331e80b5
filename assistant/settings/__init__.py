"""One frozen Settings object, read once from HEARTH_* environment variables and an optional .env file."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from assistant.errors import SettingsError
from assistant.settings import values as v
from assistant.settings.values import Secret, env_name, masked_url, read_env_file
from assistant.types import Address

__all__ = ["Secret", "Settings", "env_name", "load_settings", "masked_url", "read_env_file"]

# Where a source checkout keeps the skills and the worker image's files; settings can point elsewhere.
REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER_DIR = REPO_ROOT / "containers" / "worker"
SKILLS_DIR = REPO_ROOT / "skills"
DEFAULT_BASE_IMAGE = "python:3.12-slim"


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
    # media: photos, voice notes and documents in; files and voice out
    media_max_mb: int = 16
    media_keep_days: int = 30
    media_link_ttl_s: float = 3600.0
    media_timeout_s: float = 120.0
    image_max_pixels: int = 1_048_576
    vision_model: str = ""
    transcribe_url: str | None = None
    transcribe_model: str = "Systran/faster-whisper-small"
    echo_transcript: bool = False
    speech_url: str | None = None
    speech_model: str = "speaches-ai/Kokoro-82M-v1.0-ONNX"
    speech_voice: str = "af_heart"
    voice_replies: Literal["off", "inbound", "always"] = "off"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the store is SQLite on disk, else None."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url.removeprefix(prefix))
        return None


# Each parser raises ValueError for a bad value; the text after it says what is accepted.
PARSERS: dict[str, tuple[Callable[[str], Any], str]] = {
    "data_dir": (lambda raw: Path(raw).expanduser(), "a directory path"),
    "database_url": (v.non_empty, "an SQLAlchemy URL such as sqlite:///path/hearth.db"),
    "ollama_url": (v.url, "an http:// or https:// URL"),
    "model": (v.non_empty, "an Ollama model name such as qwen3:4b"),
    "num_ctx": (v.positive_int, "a whole number of tokens, at least 1"),
    "keep_alive": (v.non_empty, "a duration Ollama understands, such as 30m or -1"),
    "host": (v.non_empty, "a host name or address to listen on"),
    "port": (v.port, "a port number from 1 to 65535"),
    "api_token": (lambda raw: Secret(v.non_empty(raw)), "a non-empty token"),
    "timezone": (v.timezone, "an IANA time zone name such as Europe/Berlin"),
    "max_concurrent_turns": (v.positive_int, "a whole number, at least 1"),
    "max_steps": (v.positive_int, "a whole number, at least 1"),
    "log_format": (v.choice("text", "json"), "text or json"),
    "log_level": (v.choice("debug", "info", "warning", "error"), "debug, info, warning or error"),
    "model_connect_timeout_s": (v.positive_float, "a number of seconds above 0"),
    "model_first_token_timeout_s": (v.positive_float, "a number of seconds above 0"),
    "model_stall_timeout_s": (v.positive_float, "a number of seconds above 0"),
    "model_total_timeout_s": (v.positive_float, "a number of seconds above 0"),
    "drain_timeout_s": (v.positive_float, "a number of seconds above 0"),
    "model_retry_s": (v.positive_float, "a number of seconds above 0"),
    "send_retry_s": (v.positive_float, "a number of seconds above 0"),
    # sandbox
    "skills_dir": (lambda raw: Path(raw).expanduser(), "a directory of skills"),
    "sandbox_idle_s": (v.positive_float, "a number of seconds above 0"),
    "sandbox_max_containers": (v.positive_int, "a whole number, at least 1"),
    "worker_base_image": (v.non_empty, "a Docker image name such as python:3.12-slim"),
    "worker_image": (v.non_empty, "a Docker image name"),
    # swarm
    "swarm_concurrency": (v.positive_int, "a whole number, at least 1"),
    "swarm_max_tasks": (v.positive_int, "a whole number, at least 1"),
    "swarm_max_depth": (v.non_negative_int, "a whole number, 0 (no teams) or more"),
    "swarm_budget_s": (v.positive_float, "a number of seconds above 0"),
    "swarm_max_tokens": (v.positive_int, "a whole number of tokens, at least 1"),
    "progress_after_s": (v.positive_float, "a number of seconds above 0"),
    # scheduler
    "job_grace_s": (v.positive_float, "a number of seconds above 0"),
    # memory
    "embed_model": (v.non_empty, "an Ollama embedding model name such as all-minilm"),
    "memory_max_facts": (v.positive_int, "a whole number, at least 1"),
    # self-hosting
    "worker_dir": (lambda raw: Path(raw).expanduser(), "the directory holding the worker's Dockerfile"),
    # channels
    "public_url": (v.url, "the https:// URL the providers call Hearth at"),
    "whatsapp_verify_token": (v.secret, "the verify token entered at Meta"),
    "whatsapp_app_secret": (v.secret, "the Meta app secret"),
    "whatsapp_token": (v.secret, "a WhatsApp Cloud API access token"),
    "whatsapp_phone_number_id": (v.non_empty, "the business phone number id"),
    "whatsapp_api_url": (v.url, "an http:// or https:// URL"),
    "whatsapp_api_version": (v.non_empty, "a Graph API version such as v26.0"),
    "whatsapp_template": (v.non_empty, "the name of an approved template"),
    "whatsapp_template_language": (v.non_empty, "a template language code such as en_US"),
    "twilio_account_sid": (v.non_empty, "a Twilio account SID (AC…)"),
    "twilio_auth_token": (v.secret, "the Twilio auth token"),
    "twilio_sms_from": (v.non_empty, "a Twilio phone number such as +15551234567"),
    "twilio_whatsapp_from": (v.non_empty, "a WhatsApp-enabled Twilio number such as +14155238886"),
    "twilio_api_url": (v.url, "an http:// or https:// URL"),
    "twilio_template_sid": (v.non_empty, "a content template SID (HX…)"),
    "owners": (v.addresses, "comma-separated addresses such as whatsapp:+15551234567,sms:+15551234567"),
    "strangers": (v.choice("pairing", "ignore"), "pairing or ignore"),
    "rate_limit_per_min": (v.positive_int, "a whole number of messages, at least 1"),
    "reply_max_age_s": (v.positive_float, "a number of seconds above 0"),
    # media
    "media_max_mb": (v.positive_int, "a whole number of megabytes, at least 1"),
    "media_keep_days": (v.positive_int, "a whole number of days, at least 1"),
    "media_link_ttl_s": (v.positive_float, "a number of seconds above 0"),
    "media_timeout_s": (v.positive_float, "a number of seconds above 0"),
    "image_max_pixels": (v.positive_int, "a whole number of pixels, such as 1048576 (1024 x 1024)"),
    "vision_model": (v.non_empty, "an Ollama model with vision, such as gemma3:4b"),
    "transcribe_url": (v.url, "the base URL of an OpenAI-compatible speech-to-text server"),
    "transcribe_model": (v.non_empty, "a speech-to-text model name such as Systran/faster-whisper-small"),
    "echo_transcript": (v.flag, "1 or 0"),
    "speech_url": (v.url, "the base URL of an OpenAI-compatible text-to-speech server"),
    "speech_model": (v.non_empty, "a text-to-speech model name"),
    "speech_voice": (v.non_empty, "a voice the speech server offers, such as af_heart"),
    "voice_replies": (v.choice("off", "inbound", "always"), "off, inbound or always"),
}


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
