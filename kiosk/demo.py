"""Demo mode without a screen: the embedded dispatch service, simulated interpreters and the
call engine placing real calls on loopback. ``kiosk demo`` with a window builds on
``EmbeddedServices`` too; ``headless_demo`` is ``kiosk demo --headless``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Callable, Optional, TextIO

from kiosk.call.engine import CallEngine
from kiosk.call.simulator import SimulatedInterpreter
from kiosk.call.states import CallState
from kiosk.dispatch import DispatchSettings, serve
from kiosk.sessions import SessionRecord, SessionStore

log = logging.getLogger("kiosk.demo")
SESSION_DB = "sessions.sqlite3"


def dispatch_settings(config) -> DispatchSettings:
    server = config.server
    return DispatchSettings(host=server.host, port=server.port,
                            kiosk_tokens=dict(server.kiosk_tokens), heartbeat_s=server.heartbeat_s)


class EmbeddedServices:
    """Dispatch on loopback plus ``config.simulator.interpreters`` simulated interpreters.
    Start and stop on the loop they should live on."""

    def __init__(self, config, *, sim_video: Optional[tuple[int, int, int]] = None) -> None:
        self.config = config
        self._sim_video = sim_video or (config.video.width, config.video.height, config.video.fps)
        self._server = None
        self.interpreters: list[SimulatedInterpreter] = []

    async def start(self) -> None:
        if self.config.dispatch.embedded:
            self._server = await serve(dispatch_settings(self.config))
        w, h, fps = self._sim_video
        for i in range(self.config.simulator.interpreters):
            sim = SimulatedInterpreter(self.config.dispatch.url, f"sim-interpreter-{i + 1}",
                                       answer_delay_s=self.config.simulator.answer_delay_s,
                                       ice_servers=self.config.ice_servers, width=w, height=h, fps=fps)
            sim.start()
            self.interpreters.append(sim)
        for sim in self.interpreters:
            try:
                await asyncio.wait_for(sim.available.wait(), 10)
            except asyncio.TimeoutError:
                log.error("simulated interpreter %s could not log in: %s", sim.id, sim.signaling.last_error)

    async def stop(self) -> None:
        for sim in self.interpreters:
            await sim.stop()
        if self._server is not None:
            await self._server.stop()
            self._server = None


def open_store(config) -> SessionStore:
    return SessionStore(config.data_path / SESSION_DB)


async def headless_demo(config, calls: int = 3, call_seconds: float = 3.0,
                        ratings: tuple[int, ...] = (5, 4, 3, 2, 1),
                        out: TextIO = sys.stdout,
                        on_engine: Optional[Callable[[CallEngine], None]] = None) -> list[SessionRecord]:
    """Place ``calls`` real calls one after another and print each finished record as JSON."""
    services = EmbeddedServices(config)
    await services.start()
    store = open_store(config)
    engine = CallEngine(config, store)
    records: list[SessionRecord] = []
    try:
        for rec in await engine.start():
            print(json.dumps({"closed_at_startup": rec.to_dict()}, ensure_ascii=False), file=out, flush=True)
        if on_engine:
            on_engine(engine)
        for n in range(calls):
            sid = await engine.request_call()
            print(json.dumps({"call": n + 1, "session_id": sid}), file=out, flush=True)
            event = await engine.wait_for(CallState.CONNECTED, CallState.ENDED, timeout=60)
            if event.state is CallState.CONNECTED:
                print(json.dumps({"call": n + 1, "state": "connected"}), file=out, flush=True)
                await asyncio.sleep(call_seconds)
                await engine.hang_up()
            await engine.rate(sid, ratings[n % len(ratings)] if event.state is CallState.CONNECTED else None)
            rec = store.get(sid)
            records.append(rec)
            print(json.dumps({"record": rec.to_dict()}, ensure_ascii=False), file=out, flush=True)
    finally:
        await engine.stop()
        await services.stop()
        store.close()
    return records
