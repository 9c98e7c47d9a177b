"""Real-time text from end to end: the real kiosk window (QML, offscreen) with Qt's on-screen
keyboard, its call engine and embedded dispatch, and the interpreter console in Debian's
Chromium (Playwright's sync client on the GUI thread; the engine and dispatch run in their own
threads).

- each key pressed on the kiosk's on-screen keyboard shows in the console within 500 ms of the
  press, erasures and new lines included;
- Chinese entered with the keyboard's Pinyin arrives intact;
- the console's typing appears in the kiosk's text area;
- after the call, nothing of the text is on either screen, in the keyboard's learning folder or
  in the session log's files; the record holds the counts.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_IM_MODULE", "qtvirtualkeyboard")  # before the QGuiApplication exists

import shutil
import time
from pathlib import Path

import pytest

from kiosk.demo import DEMO_INTERPRETER
from kiosk.sessions import SessionStore
from kiosk.ui.app import KioskApp
from kiosk.ui.viewmodel import pinyin_user_dictionary
from tests.keyboard import VirtualKeyboard
from tests.kiosk_window import tap

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                       reason="Debian Chromium is not installed"),
]


class Console:
    """The interpreter console in Chromium, driven synchronously."""

    def __init__(self, pw, base_url: str) -> None:
        self.browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = self.browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(base_url + "/")

    def js(self, expression: str):
        return self.page.evaluate(expression)

    def wait_js(self, expression: str, what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.js(f"Boolean({expression})"):
            assert time.monotonic() < deadline, f"console: timed out waiting for {what}"
            time.sleep(0.05)

    def resident_text(self) -> str:
        return self.js("document.getElementById('text-remote').textContent")


def wait_console_text(console: Console, expected: str, start: float, limit: float = 5.0) -> float:
    """Seconds from ``start`` until the console shows ``expected`` as the resident's text."""
    while True:
        shown = console.resident_text()
        if shown == expected:
            return time.monotonic() - start
        assert time.monotonic() - start < limit, f"console shows {shown!r}, expected {expected!r}"
        time.sleep(0.003)


def test_text_between_kiosk_keyboard_and_console(qtbot, demo_config):
    from playwright.sync_api import sync_playwright

    config = demo_config(simulator={"interpreters": 0})
    app = KioskApp(config, embedded_services=True)
    app.window.resize(1280, 800)
    app.window.show()
    app.start()
    keyboard = VirtualKeyboard(app.qml)
    pw = sync_playwright().start()
    try:
        console = Console(pw, f"http://127.0.0.1:{config.server.port}")
        page = console.page
        page.fill("#login-id", DEMO_INTERPRETER[0])
        page.fill("#login-password", DEMO_INTERPRETER[1])
        page.click("#login-submit")
        page.wait_for_selector("#desk-panel", state="visible")
        console.wait_js("document.getElementById('link-status').dataset.phase === 'up'", "dispatch link")
        page.click("#presence-available")
        console.wait_js("document.getElementById('status-badge').dataset.state === 'available'", "available")
        console.wait_js("consoleDebug.state.media.phase === 'on'", "camera and microphone")

        qtbot.waitUntil(lambda: app.engine.signaling.connected, timeout=10000)
        qtbot.waitExposed(app.window)
        qtbot.wait(200)  # the window lays out its screens
        tap(app, "startCallButton")
        qtbot.waitUntil(lambda: app.engine.state.value in ("ringing", "ended"), timeout=15000)
        assert app.engine.state.value == "ringing", app.engine.current
        page.wait_for_selector("#ring-panel", state="visible", timeout=15000)
        page.click("#accept")
        qtbot.waitUntil(lambda: app.vm.screen == "call", timeout=30000)
        console.wait_js("consoleDebug.text.open", "the text channel")
        session_id = app.engine.current.session_id

        # the text button opens the text areas and the keyboard; the video stays in view
        tap(app, "textButton")
        qtbot.waitUntil(lambda: app.vm.textOpen, timeout=2000)
        field = app.find("residentText")
        qtbot.waitUntil(lambda: field.property("activeFocus") and keyboard.visible, timeout=5000)
        remote = app.find("remoteVideo")
        assert remote.isVisible() and remote.width() > 400
        assert app.find("hangUpButton").isVisible()

        # English layout: letter by letter, with a mistake erased and a new line
        keyboard.set_locale("en_US")
        qtbot.waitUntil(lambda: keyboard.locale == "en_US", timeout=3000)
        expected, delays = "", []
        for ch in "helo\bp me\n":
            start = time.monotonic()
            keyboard.key(ch)
            expected = expected[:-1] if ch == "\b" else expected + ch
            assert field.property("text") == expected  # on the kiosk's own screen at once
            delays.append(wait_console_text(console, expected, start))
            qtbot.wait(120)  # a quick typist, faster than the 300 ms buffer
        assert expected == "help me\n"
        assert max(delays) < 0.5, delays

        # Pinyin: "nihao" composes, the first candidate commits 你好
        keyboard.set_locale("zh_CN")
        qtbot.waitUntil(lambda: keyboard.locale == "zh_CN", timeout=3000)
        for ch in "nihao":
            keyboard.key(ch)
            qtbot.wait(30)
        assert keyboard.preedit.replace(" ", "") == "nihao"
        assert field.property("text") == expected  # nothing sent while composing
        candidates = keyboard.candidates()
        assert candidates and candidates[0] == "你好", candidates[:5]
        start = time.monotonic()
        keyboard.choose(0)
        expected += "你好"
        assert field.property("text") == expected
        delays.append(wait_console_text(console, expected, start))
        assert delays[-1] < 0.5, delays
        print("keystroke to console, ms:", [round(d * 1000) for d in delays])

        # the interpreter types back: it grows in the kiosk's interpreter area
        page.click("#text-local")
        page.keyboard.type("OK，请稍等", delay=40)
        shown = app.find("interpreterText")
        qtbot.waitUntil(lambda: shown.property("text") == "OK，请稍等", timeout=5000)
        assert app.vm.interpreterText == "OK，请稍等"

        # text only: the text takes the screen, the call goes on
        tap(app, "textOnlyButton")
        qtbot.waitUntil(lambda: app.vm.textOnly, timeout=2000)
        assert not remote.isVisible() and app.vm.screen == "call"
        page.keyboard.type("!", delay=40)
        qtbot.waitUntil(lambda: shown.property("text") == "OK，请稍等!", timeout=5000)
        assert app.engine.state.value == "connected"

        tap(app, "hangUpButton")
        qtbot.waitUntil(lambda: app.vm.screen == "rating", timeout=10000)
        # nothing of the text on either screen
        assert shown.property("text") == "" and field.property("text") == ""
        assert app.vm.interpreterText == "" and app.vm.residentText == "" and not app.vm.textOpen
        console.wait_js("document.getElementById('text-remote').textContent === ''", "console cleared")
        assert console.js("document.getElementById('text-local').value") == ""
        assert "你好" not in console.js("document.body.innerText")
        # nor in what the on-screen keyboard learned (Pinyin's user dictionary)
        assert not pinyin_user_dictionary().exists()
        assert console.errors == []
        tap(app, "rate4")  # back to Welcome: no rating countdown left to run after the test
        qtbot.waitUntil(lambda: app.vm.screen == "welcome", timeout=5000)
    finally:
        pw.stop()
        keyboard.close()
        app.shutdown()

    # the record: counts only, and the text nowhere in the files
    with SessionStore(config.data_path / "sessions.sqlite3") as store:
        rec = store.get(session_id)
    # h e l o ⌫ p ␣ m e ⏎ 你 好, and the console's O K ， 请 稍 等 !
    assert (rec.text_chars_sent, rec.text_chars_received) == (12, 7), rec
    # every file the kiosk and its dispatch wrote: session log, central records, accounts, …
    files = [p for p in config.data_path.rglob("*") if p.is_file()]
    assert any(p.name == "sessions.sqlite3" for p in files)
    data = b"".join(p.read_bytes() for p in files)
    for piece in ("help", "你好", "请稍等"):
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            assert piece.encode(encoding) not in data, piece
