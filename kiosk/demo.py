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
from kiosk.dispatch.accounts import Accounts
from kiosk.dispatch.app import open_accounts
from kiosk.sessions import SessionRecord, SessionStore

log = logging.getLogger("kiosk.demo")
SESSION_DB = "sessions.sqlite3"


SIM_PASSWORD = "simulated-interpreter"  # demo accounts only: the embedded dispatch's own
DEMO_INTERPRETER = ("demo-interpreter", "demo-password")  # for trying the console in a browser


def dispatch_settings(config) -> DispatchSettings:
    server = config.server
    return DispatchSettings(host=server.host, port=server.port, data_dir=config.dispatch_data_path,
                            heartbeat_s=server.heartbeat_s, ring_timeout_s=server.ring_timeout_s,
                            wrap_up_s=server.wrap_up_s,
                            missed_rings_to_away=server.missed_rings_to_away,
                            allowed_origins=server.allowed_origins, tls=config.tls_files,
                            service_hours=config.service_hours, ice_servers=config.ice_servers,
                            database_url=config.server.database_url,
                            retention_years=server.retention_years,
                            resume_grace_s=server.resume_grace_s, resume_wait_s=server.resume_wait_s)


def provision_demo(accounts: Accounts, config) -> None:
    """The demo's accounts: this kiosk with its configured token, the simulated interpreters,
    and one interpreter for a person to try the console with."""
    kiosk_id, token = config.kiosk.id, config.dispatch.token
    if accounts.kiosk(kiosk_id) is None:
        accounts.add_kiosk(kiosk_id, config.kiosk.location, token)
    elif not accounts.check_kiosk(kiosk_id, token):
        accounts.set_kiosk_token(kiosk_id, token)
    names = [f"sim-interpreter-{i + 1}" for i in range(config.simulator.interpreters)]
    for name in names:
        if accounts.interpreter(name) is None:
            accounts.add_interpreter(name, SIM_PASSWORD, name="Simulated interpreter")
    if accounts.interpreter(DEMO_INTERPRETER[0]) is None:
        accounts.add_interpreter(*DEMO_INTERPRETER, name="Demo interpreter")


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
            settings = dispatch_settings(self.config)
            accounts = open_accounts(settings)
            provision_demo(accounts, self.config)
            self._server = await serve(settings, accounts=accounts)
        w, h, fps = self._sim_video
        for i in range(self.config.simulator.interpreters):
            sim = SimulatedInterpreter(self.config.dispatch.url, f"sim-interpreter-{i + 1}", SIM_PASSWORD,
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
    store = SessionStore(config.data_path / SESSION_DB)
    try:  # the report summaries in the zone the reports are made in (rebuilt once if it changed)
        store.set_report_zone(config.service_hours.timezone)
    except BaseException:
        store.close()
        raise
    return store


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
