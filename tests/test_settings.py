"""Settings: environment, .env, defaults, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import SettingsError
from assistant.settings import Secret, Settings, load_settings


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=None)
    assert settings.model == "qwen3:4b"
    assert settings.num_ctx == 16384
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.ollama_url == "http://127.0.0.1:11434"
    assert str(settings.timezone) == "UTC"
    assert settings.api_token is None
    assert settings.data_dir == Path.home() / ".local/share/hearth"
    assert settings.database_url.endswith(".local/share/hearth/hearth.db")


def test_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('# comment\nHEARTH_MODEL="llama3.2"\nexport HEARTH_PORT=9000\nHEARTH_NUM_CTX=8192\n')
    settings = load_settings({"HEARTH_PORT": "9100", "HEARTH_DATA_DIR": str(tmp_path)}, env_file)
    assert (settings.model, settings.port, settings.num_ctx) == ("llama3.2", 9100, 8192)
    assert settings.sqlite_path == tmp_path / "hearth.db"


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("HEARTH_PORT", "http", "a port number"),
        ("HEARTH_PORT", "70000", "a port number"),
        ("HEARTH_NUM_CTX", "0", "a whole number"),
        ("HEARTH_TIMEZONE", "Mars/Base", "an IANA time zone"),
        ("HEARTH_LOG_FORMAT", "xml", "text or json"),
        ("HEARTH_OLLAMA_URL", "localhost:11434", "one or more http:// or https:// URLs"),
        ("HEARTH_OLLAMA_URL", "http://a:1,b:2", "one or more http:// or https:// URLs"),
        ("HEARTH_MAX_CONCURRENT_TURNS", "-1", "a whole number"),
        ("HEARTH_BATCH_MAX_MESSAGES", "0", "a whole number"),
        ("HEARTH_MODEL_TOTAL_TIMEOUT_S", "soon", "a number of seconds"),
    ],
)
def test_a_bad_value_names_the_variable(name: str, value: str, accepted: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value}, env_file=None)
    assert name in str(caught.value)
    assert accepted in str(caught.value)


def test_secrets_never_print() -> None:
    settings = load_settings({"HEARTH_API_TOKEN": "hunter2"}, env_file=None)
    assert settings.api_token == Secret("hunter2")
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.api_token)


def test_memory_settings() -> None:
    settings = load_settings({"HEARTH_EMBED_MODEL": "all-minilm", "HEARTH_MEMORY_MAX_FACTS": "12"}, None)
    assert (settings.embed_model, settings.memory_max_facts) == ("all-minilm", 12)
    assert load_settings({}, None).embed_model == ""
    with pytest.raises(SettingsError, match="HEARTH_MEMORY_MAX_FACTS"):
        load_settings({"HEARTH_MEMORY_MAX_FACTS": "0"}, None)


def test_each_replica_labels_its_containers_with_a_name_of_its_own() -> None:
    assert Settings().instance == "hearth"
    url = "postgresql+psycopg://hearth@db/hearth"
    one, two = Settings(database_url=url, port=8080), Settings(database_url=url, port=8081)
    assert one.instance != two.instance
    assert one.instance == Settings(database_url=url, port=8080).instance  # the same after a restart
    assert one.instance.endswith("-8080")
