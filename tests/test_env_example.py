"""deploy/.env.example documents every setting, holds no secrets, and loads as it is."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from assistant.settings import Settings, env_name, load_settings, read_env_file

EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / ".env.example"


def test_every_setting_is_documented() -> None:
    text = EXAMPLE.read_text()
    missing = [env_name(f.name) for f in dataclasses.fields(Settings) if env_name(f.name) not in text]
    assert missing == []


def test_secrets_are_blank() -> None:
    values = read_env_file(EXAMPLE)
    secret_endings = ("_TOKEN", "_SECRET", "_SID", "_PASSWORD", "_PIN")
    filled = {k: v for k, v in values.items() if k.endswith(secret_endings) and v}
    assert filled == {}


def test_the_example_loads_as_the_defaults() -> None:
    settings = load_settings(environ={}, env_file=EXAMPLE)
    assert settings.model == Settings().model
    assert settings.timezone == Settings().timezone
