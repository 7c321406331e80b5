"""`hearth mcp` and `hearth doctor` as the owner runs them, against the test server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes.ollama import FakeOllama
from tests.mcp.conftest import HttpServer
from tests.process import hearth_env, run_hearth


def configure(data_dir: Path, url: str, extra: str = "") -> dict[str, str]:
    text = f'[servers.kit]\nurl = "{url}"\nheaders = {{ Authorization = "Bearer ${{KIT_TOKEN}}" }}\n{extra}'
    (data_dir / "mcp.toml").write_text(text)
    return hearth_env(data_dir, "http://127.0.0.1:9", KIT_TOKEN="s3cret-token")


async def test_list_shows_servers_without_secrets(tmp_path: Path, http_server: HttpServer) -> None:
    env = configure(tmp_path, http_server.url, '\n[servers.bad]\nimage = "x"\n')
    code, out, _ = await run_hearth("mcp", "list", env=env, cwd=tmp_path)
    assert code == 1
    assert f"kit          http  url={http_server.url} headers=Authorization  approved=not yet" in out
    assert "BROKEN" in out
    assert "server 'bad': field 'command' is missing" in out
    assert "s3cret" not in out


async def test_test_connects_and_marks_each_tool(tmp_path: Path, http_server: HttpServer) -> None:
    env = configure(tmp_path, http_server.url)
    code, out, _ = await run_hearth("mcp", "test", "kit", env=env, cwd=tmp_path)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("kit: 12 tools in ")
    marks = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert marks["kit__echo"] == "read-only"
    assert marks["kit__note"] == "effect"
    assert marks["kit__wipe"] == "asks"
    code, out, _ = await run_hearth("mcp", "list", env=env, cwd=tmp_path)
    assert "approved=not yet" not in out  # first seen: approved as it is


async def test_tools_calls_one_tool(tmp_path: Path, http_server: HttpServer) -> None:
    env = configure(tmp_path, http_server.url)
    code, out, _ = await run_hearth("mcp", "tools", "kit", "add", '{"a": 20, "b": 22}', env=env, cwd=tmp_path)
    assert (code, out) == (0, "42\n")
    code, out, err = await run_hearth("mcp", "tools", "kit", "add", "{nope", env=env, cwd=tmp_path)
    assert code == 2
    assert "not valid JSON" in err


async def test_approve_records_the_tools_as_they_are(tmp_path: Path, http_server: HttpServer) -> None:
    env = configure(tmp_path, http_server.url)
    (tmp_path / "mcp-approved.json").write_text(json.dumps({"servers": {"kit": {"tools": {"echo": "old"}}}}))
    code, out, _ = await run_hearth("mcp", "test", "kit", env=env, cwd=tmp_path)
    assert code == 1
    assert "kit__add" in out
    assert "HELD" in out
    code, out, _ = await run_hearth("mcp", "approve", "kit", env=env, cwd=tmp_path)
    assert (code, out) == (0, "approved 12 tools of kit\n")
    code, out, _ = await run_hearth("mcp", "test", "kit", env=env, cwd=tmp_path)
    assert code == 0
    assert "HELD" not in out


async def test_unknown_and_unreachable_servers(tmp_path: Path) -> None:
    env = configure(tmp_path, "http://127.0.0.1:9/mcp")
    code, _, err = await run_hearth("mcp", "test", "nope", env=env, cwd=tmp_path)
    assert (code, err) == (2, "hearth: no MCP server named 'nope' in mcp.toml (known: kit)\n")
    code, _, err = await run_hearth("mcp", "test", "kit", env=env, cwd=tmp_path)
    assert code == 1
    assert err.splitlines()[-1] == "hearth: kit: cannot reach the server (ConnectError)"


async def test_doctor_reports_each_server(tmp_path: Path, http_server: HttpServer) -> None:
    async with FakeOllama() as fake:
        env = {**configure(tmp_path, http_server.url), "HEARTH_OLLAMA_URL": fake.url}
        code, out, _ = await run_hearth("doctor", env=env, cwd=tmp_path)
        assert "[ok  ] mcp kit: 12 tools in" in out
        assert code == 0, out
        (tmp_path / "mcp.toml").write_text('[servers.gone]\nurl = "http://127.0.0.1:9/mcp"\n')
        code, out, _ = await run_hearth("doctor", env=env, cwd=tmp_path)
        assert code == 1
        assert "[FAIL] mcp gone: gone (http): failed; last error at" in out
        assert "cannot reach the server (ConnectError)" in out
