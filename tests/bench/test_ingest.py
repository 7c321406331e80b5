"""What the ingest benchmark's figures rest on: wrk with ingest.lua sends each signed request as it was
signed, a new message id each time until the file runs out, and counts the repeats after that; and
without wrk the benchmark says it falls back to the Python client."""

from __future__ import annotations

import argparse
import hmac
import json
import shutil
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.bench.ingest import choose, signed_requests, write_requests, wrk
from tests.channels.webhooks import meta_signature

CONNECTIONS = 4


async def test_every_request_is_signed_and_new_until_the_file_repeats(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("no wrk (apt-get install wrk)")
    seen: list[str] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        if not hmac.compare_digest(request.headers.get("X-Hub-Signature-256", ""), meta_signature(body)):
            return web.Response(status=403)
        seen.append(json.loads(body)["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhooks/whatsapp", webhook)
    made = signed_requests(50, 0)
    async with TestServer(app, host="127.0.0.1") as server:
        requests_file = write_requests(tmp_path / "requests.tsv", made)
        result = await wrk(str(server.make_url("/webhooks/whatsapp")), requests_file, CONNECTIONS, 1.0)
    assert result.errors == 0
    assert result.requests > len(made), "the file never ran out in a second; use fewer requests"
    # wrk makes one request per connection ahead of sending; some are in flight when it stops.
    first = seen[: len(made) - CONNECTIONS]
    assert len(set(first)) == len(first)
    assert set(seen) == {f"wamid.BENCH{n:09d}" for n in range(len(made))}
    assert abs(result.repeated - (len(seen) - len(made))) <= 2 * CONNECTIONS


def options(generator: str) -> argparse.Namespace:
    return argparse.Namespace(generator=generator, requests=0, duration_s=10.0, connections=100)


def test_without_wrk_the_python_client_runs_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    plan = choose(options("auto"))
    assert (plan.generator, plan.count) == ("python", 5000)
    assert "wrk is not installed" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="wrk is not installed"):
        choose(options("wrk"))


def test_with_wrk_there_are_ids_for_the_whole_run() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("no wrk (apt-get install wrk)")
    plan = choose(options("auto"))
    assert plan.generator == "wrk"
    assert plan.count >= 10.0 * 8000
