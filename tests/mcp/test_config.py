"""mcp.toml: each server checked field by field; a bad entry names itself and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.mcp.config import ServerConfig, expand, load_servers, parse_text

GOOD = """
[servers.files]
image = "ghcr.io/example/files:1"
command = ["node", "/app/index.js"]
network = "egress"
allow_hosts = ["api.example.org", "*.cdn.example.org"]
env = { API_KEY = "${FILES_KEY}", MODE = "plain" }
exclude = ["delete_file"]
scope = "shared"
timeout_s = 12.5

[servers.home]
url = "http://homeassistant.local:8123/api/mcp"
headers = { Authorization = "Bearer ${HA_TOKEN}" }
include = ["HassTurnOn", "HassTurnOff"]
"""
ENV = {"FILES_KEY": "k-123", "HA_TOKEN": "tok"}


def test_a_good_file_loads_both_kinds() -> None:
    book = parse_text(GOOD, "mcp.toml", ENV)
    assert book.errors == []
    files, home = book.servers["files"], book.servers["home"]
    assert (files.kind, files.shared, files.network) == ("stdio", True, "egress")
    assert files.command == ("node", "/app/index.js")
    assert files.env == {"API_KEY": "k-123", "MODE": "plain"}
    assert files.offers("read_file")
    assert not files.offers("delete_file")
    assert (home.kind, home.shared) == ("http", True)
    assert home.headers == {"Authorization": "Bearer tok"}
    assert home.offers("HassTurnOn")
    assert not home.offers("HassLightSet")
    assert ServerConfig("x", image="i", command=("c",)).shared is False  # one container per chat


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ('image = "i"', "field 'command' is missing"),
        ('image = "i"\ncommand = []', "field 'command' must be a non-empty list"),
        ('url = "ftp://x"', "field 'url' must be an http:// or https:// URL"),
        ('command = ["c"]', "give either image and command (stdio) or url"),
        ('image = "i"\ncommand = ["c"]\nurl = "http://x"', "give either image and command"),
        ('url = "http://x"\nscope = "shared"', "field 'scope' does not go with url"),
        ('url = "http://x"\nenv = {A = "b"}', "field 'env' does not go with url"),
        ('image = "i"\ncommand = ["c"]\nheaders = {A = "b"}', "field 'headers' does not go with image"),
        ('image = "i"\ncommand = ["c"]\nnetwork = "host"', 'field \'network\' must be "none" or "egress"'),
        ('image = "i"\ncommand = ["c"]\nallow_hosts = ["a.org"]', "'allow_hosts' needs network = \"egress\""),
        ('image = "i"\ncommand = ["c"]\nnetwork = "egress"\nallow_hosts = ["a b"]', "field 'allow_hosts'"),
        ('image = "i"\ncommand = ["c"]\ntimeout_s = 0', "field 'timeout_s' must be a number from 0.1"),
        ('image = "i"\ncommand = ["c"]\nmemory_mb = 1.5', "field 'memory_mb' must be a whole number"),
        ('image = "i"\ncommand = ["c"]\nvolumes = ["/:/host"]', "unknown field 'volumes'"),
        ('url = "http://x"\nheaders = {A = "${MISSING}"}', "field 'headers.A': ${MISSING} is not set"),
    ],
)
def test_a_bad_server_names_itself_and_the_field(table: str, problem: str) -> None:
    book = parse_text(f'[servers.bad]\n{table}\n\n[servers.ok]\nurl = "http://ok.lan/mcp"\n', "f.toml", {})
    assert list(book.servers) == ["ok"]
    (error,) = book.errors
    assert error.startswith("f.toml: server 'bad': ")
    assert problem in error


@pytest.mark.parametrize("name", ["Home", "a__b", "-x", "x" * 33, "a b"])
def test_server_names_are_plain(name: str) -> None:
    book = parse_text(f'[servers."{name}"]\nurl = "http://x"\n', "f.toml", {})
    assert book.servers == {}
    assert "the name must be" in book.errors[0]


@pytest.mark.parametrize(
    ("text", "problem"),
    [("[servers", "not valid TOML"), ("[other]\na = 1", "expected only [servers.NAME]")],
)
def test_a_broken_file_is_one_error(text: str, problem: str) -> None:
    book = parse_text(text, "f.toml", {})
    assert book.servers == {}
    assert problem in book.errors[0]


def test_expand_reads_variables() -> None:
    assert expand("Bearer ${T}-${T}", {"T": "x"}) == "Bearer x-x"
    with pytest.raises(ValueError, match=r"\$\{T\} is not set"):
        expand("${T}", {"T": ""})


def test_no_file_means_no_servers(tmp_path: Path) -> None:
    book = load_servers(tmp_path, {})
    assert (book.servers, book.errors) == ({}, [])
    (tmp_path / "mcp.toml").write_text(GOOD)
    assert sorted(load_servers(tmp_path, ENV).servers) == ["files", "home"]
