"""Real-time text between the kiosk's call engine and the interpreter console in Chromium, through
the real dispatch (the rig of test_console.py): letters grow on the other side as they are typed,
erasures included; the record keeps counts only; nothing stays on the console after the call."""

from __future__ import annotations

import asyncio
import time

import pytest
from playwright.async_api import expect

from kiosk.call.states import CallState
from tests.test_console import ConsoleRig, eventually

S = CallState
pytestmark = [pytest.mark.slow]


async def _answered_call(rig: ConsoleRig) -> str:
    await rig.log_in_available()
    sid = await rig.engine.request_call()
    await expect(rig.page.locator("#ring-panel")).to_be_visible(timeout=10_000)
    await rig.page.click("#accept")
    assert (await rig.engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
    await rig.wait_js("consoleDebug.text.open", "the text channel open in the console")
    return sid


async def _console_text(rig: ConsoleRig) -> str:
    return await rig.js("document.getElementById('text-remote').textContent")


@pytest.mark.asyncio
async def test_text_both_ways_with_the_console(demo_config, tmp_path):
    config = demo_config(simulator={"interpreters": 0})
    async with ConsoleRig(config, tmp_path) as rig:
        page, engine = rig.page, rig.engine
        sid = await _answered_call(rig)
        await expect(page.locator("#text-remote-heading")).to_have_text("居民输入的文字")

        # the kiosk types (through the engine's command, as the screen does): each letter and
        # erasure shows in the console within 500 ms of the keystroke
        typed = "Hi 你好\n"
        expected = ""
        delays = []
        for step in [*typed, "\b", "\b", "吗", "?"]:
            start = time.monotonic()
            if step == "\b":
                await engine.erase(1)
                expected = expected[:-1]
            else:
                await engine.send_text(step)
                expected += step
            while await _console_text(rig) != expected:
                assert time.monotonic() - start < 3, (expected, await _console_text(rig))
                await asyncio.sleep(0.005)
            delays.append(time.monotonic() - start)
            await asyncio.sleep(0.08)  # typing speed: faster than the 300 ms buffer
        assert max(delays) < 0.5, delays
        assert expected == "Hi 你吗?"  # the new line and 好 were erased

        # the interpreter types back, with a mistake corrected; the kiosk's engine hands up the text
        shown: list[str] = []
        engine.on_text = shown.append
        box = page.locator("#text-local")
        await box.click()
        await page.keyboard.type("Helo", delay=60)
        await page.keyboard.press("Backspace")
        await page.keyboard.type("lo\n请稍等", delay=60)
        await eventually(lambda: shown and shown[-1] == "Hello\n请稍等", timeout=5,
                         what="the console's text at the kiosk")
        counts = await rig.js("consoleDebug.text")
        # the mistyped "o" and its erasure count only if the "o" had gone out already
        assert counts["sent"] in (len("Hello\n请稍等"), len("Helo") + 1 + len("lo\n请稍等"))
        assert engine.text.received == counts["sent"]

        await page.click("#hangup")
        assert (await engine.wait_for(S.ENDED, timeout=10)).state is S.ENDED
        # nothing of the text stays: not on the console, not in the engine
        await expect(page.locator("#call-panel")).to_be_hidden()
        assert await _console_text(rig) == ""
        assert await rig.js("document.getElementById('text-local').value") == ""
        assert shown[-1] == "" and engine.text is None
        assert "请稍等" not in await rig.visible_text()

        rec = rig.store.get(sid)
        sent = len("Hi 你好\n") + 2 + len("吗?")
        assert (rec.text_chars_sent, rec.text_chars_received) == (sent, counts["sent"])
        # the record holds counts only: the text is nowhere in the database files
        rig.store.connection.execute("PRAGMA wal_checkpoint(FULL)")
        files = [p for root in (config.data_path, tmp_path / "dispatch") for p in root.rglob("*") if p.is_file()]
        data = b"".join(p.read_bytes() for p in files)
        for piece in ("你好", "请稍等", "Hello", "Hi "):
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                assert piece.encode(encoding) not in data, piece
        assert rig.page_errors == []
