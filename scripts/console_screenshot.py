#!/usr/bin/env python3
"""Screenshots of the interpreter console, from real calls on loopback.

    .venv/bin/python scripts/console_screenshot.py [--out docs/screens]

Starts the real dispatch service (with an interpreter account) and the kiosk's call engine
with its synthetic camera, opens the console in headless Chromium (Debian's, with a fake
camera and microphone), signs in, takes one short call so that today's history is not empty,
then saves at 1280×800:

- ``console-ringing.png``: the next call ringing;
- ``console-call.png``: that call answered, video flowing both ways.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.async_api import async_playwright  # noqa: E402

from kiosk.call.engine import CallEngine  # noqa: E402
from kiosk.call.states import CallState  # noqa: E402
from kiosk.config import load_config  # noqa: E402
from kiosk.demo import open_store  # noqa: E402
from kiosk.dispatch.accounts import ScryptParams  # noqa: E402
from kiosk.dispatch.app import DispatchSettings, open_accounts, serve  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync",
]
SIZE = {"width": 1280, "height": 800}
INTERPRETER = ("wang.li", "screenshot-password", "王丽")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_config(tmp: Path, port: int):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["kiosk"]["data_dir"] = str(tmp / "kiosk")
    data["dispatch"]["url"] = f"ws://127.0.0.1:{port}/ws"
    data["server"]["port"] = port
    data["video"].update(width=640, height=360, fps=25)
    data["simulator"]["interpreters"] = 0
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_config(path)


async def wait_js(page, expression: str, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await page.evaluate(f"Boolean({expression})"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def wait_frames(page, frames: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        stats = await page.evaluate("consoleDebug.stats()")
        if stats["framesDecoded"] >= frames and stats["framesSent"] >= frames:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"media did not flow: {stats}")
        await asyncio.sleep(0.2)


async def take(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        port = free_port()
        config = make_config(tmp, port)
        settings = DispatchSettings(host="127.0.0.1", port=port, data_dir=tmp / "dispatch",
                                    ring_timeout_s=30, wrap_up_s=1, scrypt=ScryptParams(n=2 ** 12))
        accounts = open_accounts(settings)
        accounts.add_kiosk(config.kiosk.id, config.kiosk.location, config.dispatch.token)
        accounts.add_interpreter(INTERPRETER[0], INTERPRETER[1], name=INTERPRETER[2])
        dispatch = await serve(settings, accounts=accounts)
        store = open_store(config)
        engine = CallEngine(config, store)
        await engine.start()
        pw = await async_playwright().start()
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(viewport=SIZE, locale="zh-CN")).new_page()
            await page.goto(f"http://127.0.0.1:{port}/")
            await page.fill("#login-id", INTERPRETER[0])
            await page.fill("#login-password", INTERPRETER[1])
            await page.click("#login-submit")
            await page.wait_for_selector("#presence-available:not([disabled])")
            await page.click("#presence-available")
            await wait_js(page, "consoleDebug.state.media.phase === 'on'", "the camera")

            # one short call first, so that today's history has an entry
            sid = await engine.request_call()
            await page.click("#accept", timeout=10_000)
            await engine.wait_for(CallState.CONNECTED, timeout=30)
            await asyncio.sleep(3)
            await page.click("#hangup")
            await engine.wait_for(CallState.ENDED, timeout=10)
            await engine.rate(sid, 5)
            await wait_js(page, "consoleDebug.state.status && consoleDebug.state.status.state === 'available'",
                          "the end of the wrap-up")
            await wait_js(page, "document.querySelectorAll('#history-rows tr').length > 0", "the history")
            await page.click("#notice-dismiss")

            # (a) the next call rings
            await engine.request_call(category="社保医保")
            await page.wait_for_selector("#ring-panel", state="visible", timeout=10_000)
            await asyncio.sleep(4.2)  # the caller's waiting time counts up
            await page.mouse.move(0, 0)
            await page.screenshot(path=str(out / "console-ringing.png"), animations="disabled")

            # (b) answered, video both ways
            await page.click("#accept")
            await engine.wait_for(CallState.CONNECTED, timeout=30)
            await wait_frames(page, 60)
            await asyncio.sleep(2)
            await page.mouse.move(0, 0)
            await page.screenshot(path=str(out / "console-call.png"), animations="disabled")
            await page.click("#hangup")
            await engine.wait_for(CallState.ENDED, timeout=10)
        finally:
            await browser.close()
            await pw.stop()
            await engine.stop()
            await dispatch.stop()
            store.close()
    print(f"saved {out / 'console-ringing.png'} and {out / 'console-call.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(take(args.out))


if __name__ == "__main__":
    main()
