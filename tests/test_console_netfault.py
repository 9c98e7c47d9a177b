"""The interpreter console (real Chromium) through a real media cut.

Dispatch and the kiosk engine run in one network namespace (tests/netfault_agent.py), Chromium
in another (started through ``ip netns exec`` by Playwright); a veth pair made by the test joins
them. The link is cut for 5 s mid-call: the console shows "reconnecting", accepts the kiosk's
fresh offer for the same call, rebuilds its RTCPeerConnection and the call goes on.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import os
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import async_playwright, expect

from conftest import free_port
from kiosk.demo import DEMO_INTERPRETER
from test_console import CHROMIUM, CHROMIUM_ARGS
from test_netfault import KIOSK_IP, Agent, link  # noqa: F401  (link: the veth pair fixture)

pytestmark = [
    pytest.mark.asyncio, pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                       reason="Debian Chromium is not installed"),
]
DOCS_SCREENS = Path(__file__).resolve().parent.parent / "docs" / "screens"


def screens_dir(tmp_path: Path) -> Path:
    """Where screenshots go: docs/screens/ with KIOSK_SAVE_SCREENS=1, else the test's folder."""
    return DOCS_SCREENS if os.environ.get("KIOSK_SAVE_SCREENS") == "1" else tmp_path


@pytest_asyncio.fixture
async def rig(link, demo_config, tmp_path):
    port = free_port()
    demo_config(server={"host": "0.0.0.0", "port": port},
                dispatch={"url": f"ws://127.0.0.1:{port}/ws"},
                simulator={"interpreters": 0})
    kiosk = Agent("kiosk")
    wrapper = tmp_path / "chromium-in-netns"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {link.interp_ns} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    pw = browser = None
    try:
        await kiosk.start(link.kiosk_ns, "kiosk", str(tmp_path / "config.yaml"),
                          log_path=tmp_path / "kiosk.log")
        await kiosk.wait_for(lambda e: e["event"] == "ready", 30, "dispatch and kiosk ready")
        pw = await async_playwright().start()
        # a page from 10.98.0.1 is not a secure context by itself: camera access needs this
        secure = f"--unsafely-treat-insecure-origin-as-secure=http://{KIOSK_IP}:{port}"
        browser = await pw.chromium.launch(executable_path=str(wrapper), args=[*CHROMIUM_ARGS, secure])
        context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"http://{KIOSK_IP}:{port}/")
        yield kiosk, page, errors
    finally:
        if browser is not None:
            await browser.close()
        if pw is not None:
            await pw.stop()
        await kiosk.stop()


async def js(page, expression: str):
    return await page.evaluate(expression)


async def wait_js(page, expression: str, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await js(page, f"Boolean({expression})"):
        if time.monotonic() > deadline:
            state = await js(page, "JSON.stringify(consoleDebug.state.call)")
            raise AssertionError(f"console: no {what} within {timeout:.0f} s; call {state}")
        await asyncio.sleep(0.1)


async def frames_decoded(page) -> int:
    return (await js(page, "consoleDebug.stats()"))["framesDecoded"]


async def test_the_console_rides_out_a_five_second_media_cut(link, rig, tmp_path):
    kiosk, page, errors = rig
    await page.fill("#login-id", DEMO_INTERPRETER[0])
    await page.fill("#login-password", DEMO_INTERPRETER[1])
    await page.click("#login-submit")
    await expect(page.locator("#link-status")).to_have_attribute("data-phase", "up", timeout=15_000)
    await page.click("#presence-available")
    await wait_js(page, "consoleDebug.state.media.phase === 'on'", "camera and microphone")

    await kiosk.send("call")
    await expect(page.locator("#ring-panel")).to_be_visible(timeout=15_000)
    await page.click("#accept")
    connected = await kiosk.wait_for(lambda e: e.get("state") in ("connected", "ended"), 40,
                                     "connected call")
    assert connected["state"] == "connected", kiosk.events
    sid = connected["session_id"]
    await wait_js(page, "consoleDebug.state.call && consoleDebug.state.call.phase === 'connected'",
                  "connected console")
    deadline = time.monotonic() + 20
    while await frames_decoded(page) < 20:
        assert time.monotonic() < deadline, "no kiosk video in Chromium"
        await asyncio.sleep(0.2)

    cut_at = time.monotonic()
    link.cut()
    await wait_js(page, "consoleDebug.state.call.phase === 'reconnecting'", "reconnecting", 10)
    await expect(page.locator("#remote-waiting")).to_be_visible()
    await expect(page.locator("#remote-waiting")).to_contain_text("正在重新连接")
    await kiosk.wait_for(lambda e: e.get("state") == "reconnecting", 10, "reconnecting at the kiosk")
    lost = kiosk.at
    await page.screenshot(path=str(screens_dir(tmp_path) / "console-reconnecting.png"))
    await asyncio.sleep(max(0.0, cut_at + 5.0 - time.monotonic()))
    link.mend()

    back = await kiosk.wait_for(lambda e: e.get("state") in ("connected", "ended"), 40,
                                "the call back at the kiosk", after=lost)
    assert back["state"] == "connected" and back["session_id"] == sid, kiosk.events
    assert back["interpreter_id"] == DEMO_INTERPRETER[0]
    await wait_js(page, "consoleDebug.state.call && consoleDebug.state.call.phase === 'connected'"
                  " && consoleDebug.state.call.attempt >= 1", "the console connected again", 30)
    assert await js(page, "consoleDebug.state.call.session_id") == sid
    before = await frames_decoded(page)
    deadline = time.monotonic() + 20
    while await frames_decoded(page) < before + 10:
        assert time.monotonic() < deadline, "kiosk video did not come back in Chromium"
        await asyncio.sleep(0.2)
    await expect(page.locator("#remote-waiting")).to_be_hidden()

    await page.click("#hangup")
    ended = await kiosk.wait_for(lambda e: e.get("state") == "ended", 15, "ended", after=lost)
    assert ended["reason"] == "completed"
    seen = len(kiosk.events)
    await kiosk.send(f"record {sid}")
    rec = (await kiosk.wait_for(lambda e: e["event"] == "record", 10, "record", after=seen))["record"]
    assert rec["media_gaps"] == 1 and rec["media_gap_s"] >= 3.0
    assert rec["end_reason"] == "completed" and rec["ended_by"] == "interpreter"
    assert errors == []
