"""A bare aiohttp server answering every POST with 200 "ok": the yardstick for the ingest benchmark."""

from __future__ import annotations

import sys

from aiohttp import web


async def ok(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text="ok")


def main() -> None:
    app = web.Application()
    app.router.add_post("/webhooks/whatsapp", ok)
    app.router.add_get("/healthz", ok)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
