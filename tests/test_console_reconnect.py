"""The interpreter console (real Chromium) in a call while its link to dispatch drops and while
dispatch restarts: the call goes on peer to peer, the console and the kiosk come back by
themselves and resume it, and the central records are complete."""

from __future__ import annotations

import asyncio
import time

import pytest
from playwright.async_api import expect

from kiosk.call.states import CallState
from kiosk.dispatch.app import open_accounts, serve
from test_console import INTERPRETER, ConsoleRig, eventually

S = CallState
pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


async def frames_growing(rig: ConsoleRig, at_least: int = 10) -> None:
    start = (await rig.stats())["framesDecoded"]
    deadline = time.monotonic() + 20
    while (await rig.stats())["framesDecoded"] < start + at_least:
        assert time.monotonic() < deadline, "the kiosk's picture stopped in Chromium"
        await asyncio.sleep(0.2)


async def test_console_call_survives_a_dropped_link_and_a_restart_of_dispatch(demo_config, tmp_path):
    config = demo_config(simulator={"interpreters": 0})
    async with ConsoleRig(config, tmp_path) as rig:
        page, engine = rig.page, rig.engine
        link = page.locator("#link-status")
        await rig.log_in_available()
        sid = await engine.request_call()
        await expect(page.locator("#ring-panel")).to_be_visible(timeout=10_000)
        await page.click("#accept")
        assert (await engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
        await frames_growing(rig)

        # the console's WebSocket drops: it reconnects and resumes, the call never stops
        hub = rig.dispatch.hub
        await hub.interpreters[INTERPRETER[0]].conn.close()
        await expect(link).to_have_attribute("data-phase", "up", timeout=10_000)
        await eventually(lambda: sid in hub.calls and not hub.calls[sid].away
                         and hub.calls[sid].interpreter.id == INTERPRETER[0], what="call resumed")
        assert await rig.js("consoleDebug.state.call && consoleDebug.state.call.session_id") == sid
        assert engine.state is S.CONNECTED
        await frames_growing(rig)

        # dispatch restarts: everything it knew in memory is gone
        await rig.dispatch.stop()
        await expect(link).not_to_have_attribute("data-phase", "up", timeout=10_000)
        await expect(page.locator("#call-link")).to_be_visible()  # "the call goes on"
        await frames_growing(rig)  # media is peer to peer
        rig.dispatch = await serve(rig.settings, accounts=open_accounts(rig.settings))
        restarted = time.monotonic()
        await expect(link).to_have_attribute("data-phase", "up", timeout=15_000)
        hub = rig.dispatch.hub
        await eventually(lambda: sid in hub.calls, timeout=15, what="call adopted after the restart")
        back_s = time.monotonic() - restarted
        print(f"\nconsole and kiosk back and the call adopted {back_s:.1f} s after dispatch restarted")
        assert hub.calls[sid].adopted and hub.calls[sid].kiosk.id == config.kiosk.id
        await expect(page.locator("#call-link")).to_be_hidden()
        assert await rig.js("consoleDebug.state.call.session_id") == sid
        assert engine.state is S.CONNECTED and engine.signaling.connected
        await frames_growing(rig)
        assert back_s < 10

        await page.click("#hangup")
        assert (await engine.wait_for(S.ENDED, timeout=10)).reason.value == "completed"
        await engine.rate(sid, 5)
        await eventually(lambda: rig.store.outbox_size() == 0, what="record uploaded")
        row = rig.dispatch.records.get(sid)
        assert row["end_reason"] == "completed" and row["rating"] == 5
        assert row["routed_interpreter_id"] == INTERPRETER[0] and row["dispatch_outcome"] == "answered"
        assert rig.dispatch.records.count() == 1
        # the browser logs each refused reconnect while dispatch was down; nothing else
        assert [e for e in rig.page_errors if "ERR_CONNECTION_REFUSED" not in e] == []
