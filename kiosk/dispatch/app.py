"""The dispatch service as an aiohttp application: ``create_app`` builds it, ``serve`` runs it
inside another program (the demo), ``run`` runs it on its own (``kiosk dispatch``)."""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from aiohttp import WSCloseCode, WSMsgType, web

from kiosk import protocol
from kiosk.dispatch.hub import Connection, Hub

log = logging.getLogger("kiosk.dispatch")


@dataclass(frozen=True)
class DispatchSettings:
    host: str = "127.0.0.1"
    port: int = 8765
    # kiosk id → token; empty accepts any kiosk (demo only)
    kiosk_tokens: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # interpreter id → password; empty accepts any interpreter (demo only)
    interpreter_passwords: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    heartbeat_s: float = 10.0


HUB = web.AppKey("hub", Hub)
SETTINGS = web.AppKey("settings", DispatchSettings)
SOCKETS = web.AppKey("sockets", weakref.WeakSet)


async def _ws(request: web.Request) -> web.WebSocketResponse:
    settings = request.app[SETTINGS]
    # aiohttp's own limit sits above the protocol's, so an oversized message gets a
    # protocol error reply instead of a torn-down connection.
    ws = web.WebSocketResponse(heartbeat=settings.heartbeat_s,
                               max_msg_size=4 * protocol.MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    hub = request.app[HUB]
    sockets = request.app[SOCKETS]
    sockets.add(ws)
    conn = Connection(ws.send_str, ws.close)
    try:
        async for frame in ws:
            if frame.type is WSMsgType.TEXT:
                await hub.on_text(conn, frame.data)
            elif frame.type is WSMsgType.BINARY:
                await conn.error("bad_message", "binary frames are not part of the protocol")
            elif frame.type is WSMsgType.ERROR:
                log.info("connection error: %s", ws.exception())
            if conn.closed:
                break
    finally:
        sockets.discard(ws)
        await hub.on_close(conn)
        if not ws.closed:
            await ws.close()
    return ws


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response(request.app[HUB].health())


async def _close_sockets(app: web.Application) -> None:
    for ws in list(app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"dispatch shutting down")


def create_app(settings: DispatchSettings = DispatchSettings()) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app[HUB] = Hub(settings.kiosk_tokens, settings.interpreter_passwords)
    app[SOCKETS] = weakref.WeakSet()
    app.router.add_get("/ws", _ws)
    app.router.add_get("/healthz", _healthz)
    app.on_shutdown.append(_close_sockets)
    return app


class RunningDispatch:
    def __init__(self, runner: web.AppRunner, app: web.Application) -> None:
        self._runner = runner
        self.app = app

    @property
    def hub(self) -> Hub:
        return self.app[HUB]

    async def stop(self) -> None:
        await self._runner.cleanup()


async def serve(settings: DispatchSettings) -> RunningDispatch:
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise OSError(f"dispatch cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from exc
    log.info("dispatch listening on ws://%s:%d/ws", settings.host, settings.port)
    return RunningDispatch(runner, app)


def run(settings: DispatchSettings) -> None:
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None,
                print=lambda s: log.info("%s", s))
