"""The Settings object: everything Hearth can be told, each setting beside how its value is read."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from assistant.settings.values import (
    DEFAULT_BASE_IMAGE,
    SKILLS_DIR,
    WORKER_DIR,
    Secret,
    addresses,
    choice,
    flag,
    host_names,
    names,
    non_empty,
    non_negative_int,
    path,
    port_number,
    positive_float,
    positive_int,
    secret,
    setting,
    url,
    urls,
    zone,
)
from assistant.types import Address

DEFAULT_TRANSCRIBE = "Systran/faster-whisper-small"
SECONDS = "a number of seconds above 0"
COUNT = "a whole number, at least 1"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "hearth"


def _utc() -> ZoneInfo:
    return ZoneInfo("UTC")


@dataclass(frozen=True)
class Settings:
    """Everything Hearth can be told. Field `x_y` is read from `HEARTH_X_Y`; a bad value names it and what
    it accepts."""

    data_dir: Path = setting(path, "a directory path", factory=_default_data_dir)
    database_url: str = setting(non_empty, "an SQLAlchemy URL such as sqlite:///path/hearth.db", "")
    ollama_url: str = setting(
        urls, "one or more http:// or https:// URLs, comma-separated", "http://127.0.0.1:11434"
    )
    model: str = setting(non_empty, "an Ollama model name such as qwen3:4b", "qwen3:4b")
    num_ctx: int = setting(positive_int, "a whole number of tokens, at least 1", 16384)
    keep_alive: str = setting(non_empty, "a duration Ollama understands, such as 30m or -1", "30m")
    host: str = setting(non_empty, "a host name or address to listen on", "127.0.0.1")
    port: int = setting(port_number, "a port number from 1 to 65535", 8080)
    api_token: Secret | None = setting(secret, "a non-empty token", None)
    timezone: ZoneInfo = setting(zone, "an IANA time zone name such as Europe/Berlin", factory=_utc)
    max_concurrent_turns: int = setting(positive_int, COUNT, 2)
    max_steps: int = setting(positive_int, COUNT, 6)
    batch_max_messages: int = setting(positive_int, COUNT, 20)
    log_format: Literal["text", "json"] = setting(choice("text", "json"), "text or json", "text")
    log_level: str = setting(
        choice("debug", "info", "warning", "error"), "debug, info, warning or error", "INFO"
    )
    model_connect_timeout_s: float = setting(positive_float, SECONDS, 5.0)
    model_first_token_timeout_s: float = setting(positive_float, SECONDS, 120.0)
    model_stall_timeout_s: float = setting(positive_float, SECONDS, 60.0)
    model_total_timeout_s: float = setting(positive_float, SECONDS, 600.0)
    # A turn on a CPU model can take a minute or more: SIGTERM lets a running one finish.
    drain_timeout_s: float = setting(positive_float, SECONDS, 120.0)
    # Replicas on PostgreSQL: a dead replica's chats and replies pass to another after this long.
    lease_s: float = setting(positive_float, SECONDS, 30.0)
    model_retry_s: float = setting(positive_float, SECONDS, 5.0)
    send_retry_s: float = setting(positive_float, SECONDS, 2.0)
    # sandbox
    skills_dir: Path = setting(path, "a directory of skills", SKILLS_DIR)
    sandbox_idle_s: float = setting(positive_float, SECONDS, 300.0)
    sandbox_max_containers: int = setting(positive_int, COUNT, 8)
    worker_base_image: str = setting(
        non_empty, "a Docker image name such as python:3.12-slim", DEFAULT_BASE_IMAGE
    )
    worker_image: str = setting(non_empty, "a Docker image name", "")
    workspace_max_mb: int = setting(positive_int, "a whole number of megabytes, at least 1", 100)
    skill_workspaces: Literal["auto", "bind", "volume"] = setting(
        choice("auto", "bind", "volume"), "auto, bind or volume", "auto"
    )
    # swarm
    swarm_concurrency: int = setting(positive_int, COUNT, 2)
    swarm_max_tasks: int = setting(positive_int, COUNT, 5)
    swarm_max_depth: int = setting(non_negative_int, "a whole number, 0 (no teams) or more", 1)
    swarm_budget_s: float = setting(positive_float, SECONDS, 600.0)
    swarm_max_tokens: int = setting(positive_int, "a whole number of tokens, at least 1", 200_000)
    progress_after_s: float = setting(positive_float, SECONDS, 15.0)
    # scheduler
    job_grace_s: float = setting(positive_float, SECONDS, 3600.0)
    # memory
    embed_model: str = setting(non_empty, "an Ollama embedding model name such as all-minilm", "")
    memory_max_facts: int = setting(positive_int, COUNT, 30)
    # self-hosting
    worker_dir: Path = setting(path, "the directory holding the worker's Dockerfile", WORKER_DIR)
    min_free_mb: int = setting(non_negative_int, "a whole number of megabytes, 0 (no floor) or more", 200)
    # channels: WhatsApp Cloud API, Twilio, and who may talk to Hearth
    public_url: str | None = setting(url, "the https:// URL the providers call Hearth at", None)
    whatsapp_verify_token: Secret | None = setting(secret, "the verify token entered at Meta", None)
    whatsapp_app_secret: Secret | None = setting(secret, "the Meta app secret", None)
    whatsapp_token: Secret | None = setting(secret, "a WhatsApp Cloud API access token", None)
    whatsapp_phone_number_id: str | None = setting(non_empty, "the business phone number id", None)
    whatsapp_api_url: str = setting(url, "an http:// or https:// URL", "https://graph.facebook.com")
    whatsapp_api_version: str = setting(non_empty, "a Graph API version such as v26.0", "v26.0")
    whatsapp_template: str | None = setting(non_empty, "the name of an approved template", None)
    whatsapp_template_language: str = setting(non_empty, "a template language code such as en_US", "en_US")
    twilio_account_sid: str | None = setting(non_empty, "a Twilio account SID (AC…)", None)
    twilio_auth_token: Secret | None = setting(secret, "the Twilio auth token", None)
    twilio_sms_from: str | None = setting(non_empty, "a Twilio phone number such as +15551234567", None)
    twilio_whatsapp_from: str | None = setting(
        non_empty, "a WhatsApp-enabled Twilio number such as +14155238886", None
    )
    twilio_api_url: str = setting(url, "an http:// or https:// URL", "https://api.twilio.com")
    twilio_template_sid: str | None = setting(non_empty, "a content template SID (HX…)", None)
    owners: tuple[Address, ...] = setting(
        addresses, "comma-separated addresses such as whatsapp:+15551234567,sms:+15551234567", ()
    )
    strangers: Literal["pairing", "ignore"] = setting(
        choice("pairing", "ignore"), "pairing or ignore", "pairing"
    )
    rate_limit_per_min: int = setting(positive_int, "a whole number of messages, at least 1", 20)
    reply_max_age_s: float = setting(positive_float, SECONDS, 86400.0)
    # trust: approvals, the SMS owner's PIN, private destinations egress may reach
    approval_timeout_s: float = setting(positive_float, SECONDS, 600.0)
    sms_owner_pin: Secret | None = setting(secret, "a PIN of at least 4 characters, without spaces", None)
    egress_allow: tuple[str, ...] = setting(
        names, "comma-separated hosts, IP addresses or CIDRs such as nas.lan,192.168.1.0/24", ()
    )
    # tools: web search, MCP servers, what one request offers
    search_url: str | None = setting(url, "the http:// URL of a SearXNG instance", None)
    search_results: int = setting(positive_int, COUNT, 5)
    search_timeout_s: float = setting(positive_float, SECONDS, 10.0)
    mcp_idle_s: float = setting(positive_float, SECONDS, 300.0)
    mcp_max_containers: int = setting(positive_int, COUNT, 8)
    tool_specs_max_chars: int = setting(positive_int, "a whole number of characters, at least 1", 4800)
    # media: photos, voice notes and documents in; files and voice out
    media_max_mb: int = setting(positive_int, "a whole number of megabytes, at least 1", 16)
    media_keep_days: int = setting(positive_int, "a whole number of days, at least 1", 30)
    media_link_ttl_s: float = setting(positive_float, SECONDS, 3600.0)
    media_timeout_s: float = setting(positive_float, SECONDS, 120.0)
    image_max_pixels: int = setting(
        positive_int, "a whole number of pixels, such as 1048576 (1024 x 1024)", 1_048_576
    )
    vision_model: str = setting(non_empty, "an Ollama model with vision, such as gemma3:4b", "")
    transcribe_url: str | None = setting(
        url, "the base URL of an OpenAI-compatible speech-to-text server", None
    )
    transcribe_model: str = setting(
        non_empty,
        "a speech-to-text model name such as Systran/faster-whisper-small",
        "Systran/faster-whisper-small",
    )
    echo_transcript: bool = setting(flag, "1 or 0", False)
    speech_url: str | None = setting(url, "the base URL of an OpenAI-compatible text-to-speech server", None)
    speech_model: str = setting(non_empty, "a text-to-speech model name", "speaches-ai/Kokoro-82M-v1.0-ONNX")
    speech_voice: str = setting(non_empty, "a voice the speech server offers, such as af_heart", "af_heart")
    voice_replies: Literal["off", "inbound", "always"] = setting(
        choice("off", "inbound", "always"), "off, inbound or always", "off"
    )
    # the owner's dashboard under /ui/
    dashboard: bool = setting(flag, "1 (on) or 0 (off)", True)
    dashboard_password: Secret | None = setting(
        secret, "a password, or its hash from `hearth dashboard password`", None
    )
    dashboard_hosts: tuple[str, ...] = setting(
        host_names, "comma-separated host names such as hearth.lan,192.168.1.5", ()
    )

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the store is SQLite on disk, else None."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url.removeprefix(prefix))
        return None

    @property
    def replicated(self) -> bool:
        """Whether the store is PostgreSQL, which several `hearth serve` replicas may share."""
        return self.database_url.startswith("postgresql")

    @property
    def instance(self) -> str:
        """The name this process's containers are labelled with, so a start removes only its own
        leftovers: `hearth`, or per replica (host and port, stable across its restarts)."""
        if not self.replicated:
            return "hearth"
        host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())
        return f"hearth-{host}-{self.port}"
