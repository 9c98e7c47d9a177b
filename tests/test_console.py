"""The interpreter console (kiosk/dispatch/static/) in headless Chromium, against the real
dispatch service and the real kiosk call engine, all on loopback.

Chromium gets a fake camera and microphone (``--use-fake-device-for-media-stream``); the kiosk
sends its synthetic picture and tone. Everything runs on the test's event loop: dispatch
(``kiosk.dispatch.serve``), the kiosk's ``CallEngine`` and Playwright's async client.

Chromium is Debian's (/usr/bin/chromium): Playwright's own browser download is not used. The
tests are skipped when it is missing.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from pathlib import Path
from typing import Optional

import pytest
from playwright.async_api import Page, async_playwright, expect

from kiosk.call.engine import CallEngine
from kiosk.call.simulator import SimulatedInterpreter
from kiosk.call.states import CallState, EndReason
from kiosk.demo import open_store
from kiosk.dispatch.accounts import ScryptParams
from kiosk.dispatch.app import DispatchSettings, open_accounts, serve

S = CallState
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
]
INTERPRETER = ("wang.li", "correct-horse-battery", "Wang Li")
LOCATION = "示范区政务服务中心 一楼无障碍窗口"
FAST_SCRYPT = ScryptParams(n=2 ** 12)  # the real hash, cheap enough for tests
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                       reason="Debian Chromium is not installed"),
]


async def eventually(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class ConsoleRig:
    """Real dispatch (with an interpreter account and the kiosk's account), optionally the kiosk
    call engine, and a Chromium page on the console."""

    def __init__(self, config, tmp_path: Path, *, kiosk: bool = True, ring_timeout_s: float = 20.0,
                 wrap_up_s: float = 4.0, missed_rings_to_away: int = 3) -> None:
        self.config = config
        self.settings = DispatchSettings(
            host="127.0.0.1", port=config.server.port, data_dir=tmp_path / "dispatch",
            ring_timeout_s=ring_timeout_s, wrap_up_s=wrap_up_s,
            missed_rings_to_away=missed_rings_to_away, ice_servers=config.ice_servers,
            scrypt=FAST_SCRYPT)
        self.base_url = f"http://127.0.0.1:{config.server.port}"
        self.with_kiosk = kiosk
        self.dispatch = None
        self.store = None
        self.engine: Optional[CallEngine] = None
        self.page: Optional[Page] = None
        self.page_errors: list[str] = []
        self._pw = None
        self._browser = None
        self._extra: list = []

    async def __aenter__(self) -> "ConsoleRig":
        accounts = open_accounts(self.settings)
        accounts.add_kiosk(self.config.kiosk.id, self.config.kiosk.location, self.config.dispatch.token)
        accounts.add_interpreter(INTERPRETER[0], INTERPRETER[1], name=INTERPRETER[2])
        accounts.add_interpreter("sim-2", "sim-password", name="Simulated")
        self.dispatch = await serve(self.settings, accounts=accounts)
        if self.with_kiosk:
            self.store = open_store(self.config)
            self.engine = CallEngine(self.config, self.store)
            await self.engine.start()
            assert await self.engine.signaling.wait_ready(5), self.engine.signaling.last_error
        self._pw = await async_playwright().start()
        self._browser = await self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await self._browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        self.page = await context.new_page()
        self.page.on("pageerror", lambda exc: self.page_errors.append(f"pageerror: {exc}"))
        self.page.on("console", self._console)
        await self.page.goto(self.base_url + "/")
        return self

    async def new_page(self, init_script: Optional[str] = None) -> Page:
        context = await self._browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        if init_script:
            await context.add_init_script(init_script)
        page = await context.new_page()
        await page.goto(self.base_url + "/")
        return page

    def _console(self, msg) -> None:
        if msg.type == "error":
            self.page_errors.append(f"console: {msg.text}")

    async def __aexit__(self, *exc) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._pw is not None:
            await self._pw.stop()
        for sim in self._extra:
            await sim.stop()
        if self.engine is not None:
            await self.engine.stop()
        if self.dispatch is not None:
            await self.dispatch.stop()
        if self.store is not None:
            self.store.close()

    def simulated_interpreter(self) -> SimulatedInterpreter:
        sim = SimulatedInterpreter(self.config.dispatch.url, "sim-2", "sim-password",
                                   answer_delay_s=0.2, width=320, height=240, fps=15)
        self._extra.append(sim)
        sim.start()
        return sim

    # --- console steps --------------------------------------------------------------------

    async def log_in(self, password: str = INTERPRETER[1], page: Optional[Page] = None) -> None:
        page = page or self.page
        await page.fill("#login-id", INTERPRETER[0])
        await page.fill("#login-password", password)
        await page.click("#login-submit")

    async def log_in_available(self) -> None:
        await self.log_in()
        await expect(self.page.locator("#desk-panel")).to_be_visible()
        await expect(self.page.locator("#link-status")).to_have_attribute("data-phase", "up")
        await self.page.click("#presence-available")
        await expect(self.page.locator("#status-badge")).to_have_attribute("data-state", "available")
        await self.wait_js("consoleDebug.state.media.phase === 'on'", "camera and microphone")

    async def js(self, expression: str):
        return await self.page.evaluate(expression)

    async def wait_js(self, expression: str, what: str, timeout: float = 15.0) -> None:
        # polled from here: the page's CSP (no 'unsafe-eval') refuses page.wait_for_function
        deadline = time.monotonic() + timeout
        while not await self.js(f"Boolean({expression})"):
            if time.monotonic() > deadline:
                state = await self.js("JSON.stringify(consoleDebug.state)")
                raise AssertionError(f"console: timed out waiting for {what}; state {state}")
            await asyncio.sleep(0.05)

    async def stats(self) -> dict:
        return await self.js("consoleDebug.stats()")

    async def visible_text(self) -> str:
        """What a sighted user reads, plus the names that assistive technology reads out."""
        return await self.js("""(() => {
            const labels = [...document.querySelectorAll('[aria-label]')]
                .filter((el) => el.getClientRects().length > 0)
                .map((el) => el.getAttribute('aria-label'));
            return [document.title, document.body.innerText, ...labels].join('\\n');
        })()""")


@pytest.fixture
def console_config(demo_config):
    def make(**sections):
        return demo_config(simulator={"interpreters": 0}, **sections)
    return make


# --- the whole call ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_answered_call_end_to_end(console_config, tmp_path):
    config = console_config()
    async with ConsoleRig(config, tmp_path, wrap_up_s=4.0) as rig:
        page, engine = rig.page, rig.engine
        await expect(page.locator("#login-panel")).to_be_visible()
        await rig.log_in_available()

        # the kiosk calls: the console rings, impossible to miss
        sid = await engine.request_call()
        ring = page.locator("#ring-panel")
        await expect(ring).to_be_visible(timeout=10_000)
        await expect(page.locator("#ring-location")).to_have_text(config.kiosk.location)
        await expect(page.locator("#ring-timeout-text")).to_contain_text("秒后转给其他译员")
        await expect(page.locator("#accept")).to_be_focused()
        await rig.wait_js("consoleDebug.state.ringSound && consoleDebug.state.titleFlashing", "ring sound")
        await rig.wait_js(f"document.title.includes({config.kiosk.location!r})", "flashing title")
        assert (await engine.wait_for(S.RINGING, timeout=5)).state is S.RINGING

        await page.click("#accept")
        await expect(ring).to_be_hidden()
        await expect(page.locator("#call-panel")).to_be_visible()
        assert not await rig.js("consoleDebug.state.ringSound"), "the ring sound must stop on accept"
        connected = await engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)
        assert connected.state is S.CONNECTED, engine.current
        assert connected.interpreter_id == INTERPRETER[0]

        # media both ways: the kiosk decodes the console's camera and microphone...
        await eventually(lambda: engine.counters.video_received > 20, what="console video at the kiosk")
        await eventually(lambda: engine.counters.audio_received > 20, what="console audio at the kiosk")
        # ...and Chromium decodes the kiosk's picture and sends its own
        deadline = time.monotonic() + 20
        while True:
            stats = await rig.stats()
            if stats["framesDecoded"] > 20 and stats["framesSent"] > 20:
                break
            assert time.monotonic() < deadline, f"media did not flow in Chromium: {stats}"
            await asyncio.sleep(0.2)
        assert stats["bytesReceived"] > 0 and stats["audioPacketsReceived"] > 0, stats
        assert await rig.js("document.getElementById('remote-video').videoWidth") == 320
        await expect(page.locator("#call-timer")).to_have_text(re.compile(r"^通话时长 \d+:\d\d$"))
        await expect(page.locator("#remote-waiting")).to_be_hidden()

        # mute and camera switch the tracks themselves
        await page.click("#mute")
        await page.click("#camera")
        assert await rig.js("consoleDebug.pc.getSenders().every((s) => !s.track || !s.track.enabled)")
        await expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")
        await page.click("#mute")
        await page.click("#camera")
        assert await rig.js("consoleDebug.pc.getSenders().every((s) => !s.track || s.track.enabled)")

        await page.click("#hangup")
        ended = await engine.wait_for(S.ENDED, timeout=10)
        assert ended.reason is EndReason.COMPLETED
        rec = rig.store.get(sid)
        assert rec.end_reason == "completed" and rec.ended_by == "interpreter", rec
        await expect(page.locator("#call-panel")).to_be_hidden()
        assert await rig.js("consoleDebug.pc") is None
        assert await rig.js("document.getElementById('remote-video').srcObject") is None
        await expect(page.locator("#notice-text")).to_have_text("通话已结束。")

        # the wrap-up pause counts down, then the call is in today's history
        badge = page.locator("#status-badge")
        await expect(badge).to_have_attribute("data-state", "wrap_up")
        countdown = page.locator("#status-countdown")
        await expect(countdown).to_have_text(re.compile(r"^0:0[1-4] 后自动恢复接听$"))
        first = await countdown.text_content()
        await expect(countdown).not_to_have_text(first, timeout=2500)  # it counts down
        await expect(badge).to_have_attribute("data-state", "available", timeout=10_000)
        await expect(page.locator("#status-reason")).to_have_text("整理时间结束，已恢复可接听。")
        row = page.locator("#history-rows tr").first
        await expect(row).to_contain_text(config.kiosk.location, timeout=10_000)
        await expect(row).to_contain_text("已完成")
        cells = await row.locator("td").all_text_contents()
        assert re.fullmatch(r"\d\d:\d\d", cells[0]), cells
        assert re.fullmatch(r"0:\d\d", cells[2]) and cells[2] != "0:00", cells
        assert await row.get_attribute("data-session-id") == sid
        assert rig.page_errors == []


@pytest.mark.asyncio
async def test_decline_moves_the_call_on(console_config, tmp_path):
    config = console_config()
    async with ConsoleRig(config, tmp_path) as rig:
        page, engine = rig.page, rig.engine
        await rig.log_in_available()
        # a second interpreter, free after the console's: the console rings first
        sim = rig.simulated_interpreter()
        await asyncio.wait_for(sim.available.wait(), 10)

        await engine.request_call()
        await expect(page.locator("#ring-panel")).to_be_visible(timeout=10_000)
        await page.click("#decline")
        await expect(page.locator("#ring-panel")).to_be_hidden()
        assert not await rig.js("consoleDebug.state.ringSound")
        await expect(page.locator("#notice-text")).to_have_text("已拒接来电。")

        # the call went on to the other interpreter, who answered it
        connected = await engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)
        assert connected.state is S.CONNECTED and connected.interpreter_id == "sim-2"
        await expect(page.locator("#status-badge")).to_have_attribute("data-state", "available")
        await expect(page.locator("#call-panel")).to_be_hidden()
        assert sim.stats.rings == 1
        await engine.hang_up()
        assert rig.page_errors == []


@pytest.mark.asyncio
async def test_unanswered_ring_moves_on_and_sets_away(console_config, tmp_path):
    config = console_config()
    async with ConsoleRig(config, tmp_path, ring_timeout_s=3.0, missed_rings_to_away=1) as rig:
        page, engine = rig.page, rig.engine
        await rig.log_in_available()
        await engine.request_call()
        await expect(page.locator("#ring-panel")).to_be_visible(timeout=10_000)
        await expect(page.locator("#ring-timeout-text")).to_have_text(re.compile(r"^[1-3] 秒后转给其他译员$"))
        await expect(page.locator("#ring-panel")).to_be_hidden(timeout=8000)
        await expect(page.locator("#notice-text")).to_have_text("来电未接听，已转给其他译员。")
        assert not await rig.js("consoleDebug.state.ringSound || consoleDebug.state.titleFlashing")
        await expect(page.locator("#status-badge")).to_have_attribute("data-state", "away")
        await expect(page.locator("#status-reason")).to_contain_text("连续 1 次未接听来电")
        await expect(page.locator("#presence-away")).to_have_attribute("aria-pressed", "true")
        # nobody else is on duty: the kiosk hears that nobody can take the call
        assert (await engine.wait_for(S.ENDED, timeout=10)).state is S.ENDED
        assert rig.page_errors == []


# --- sign-in and languages --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_wrong_password_shows_a_clear_error(console_config, tmp_path):
    async with ConsoleRig(console_config(), tmp_path, kiosk=False) as rig:
        page = rig.page
        await rig.log_in(password="not-the-password")
        error = page.locator("#login-error")
        await expect(error).to_be_visible()
        await expect(error).to_have_text("账号或密码错误，请重新输入。")
        await expect(page.locator("#login-password")).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#desk-panel")).to_be_hidden()
        await page.click("#lang-toggle")
        await expect(error).to_have_text("Wrong ID or password. Please try again.")
        # and the right password still works afterwards
        await rig.log_in()
        await expect(page.locator("#desk-panel")).to_be_visible()
        await expect(error).to_be_hidden()
        # only the wrong password was a failure the browser should report
        assert all("401" in e for e in rig.page_errors), rig.page_errors


@pytest.mark.asyncio
async def test_too_many_wrong_passwords_say_wait(console_config, tmp_path):
    async with ConsoleRig(console_config(), tmp_path, kiosk=False) as rig:
        page = rig.page
        error = page.locator("#login-error")
        await page.fill("#login-id", "someone.else")
        for _ in range(5):  # dispatch locks an id after 5 wrong passwords
            await page.fill("#login-password", "wrong-password")
            await page.click("#login-submit")
            await expect(error).to_have_text("账号或密码错误，请重新输入。")
            await expect(page.locator("#login-submit")).to_be_enabled()
        await page.click("#login-submit")
        await expect(error).to_have_text("登录失败次数过多，请稍后再试。")


def _english_leftovers(text: str, allowed: tuple[str, ...]) -> list[str]:
    for value in allowed:
        text = text.replace(value, "")
    return sorted(set(re.findall(r"[A-Za-z]{3,}", text)))


@pytest.mark.asyncio
async def test_language_toggle_switches_every_visible_string(console_config, tmp_path):
    config = console_config()
    async with ConsoleRig(config, tmp_path, wrap_up_s=30.0) as rig:
        page, engine = rig.page, rig.engine
        keys = await rig.js("import('/static/i18n.js').then((m) => [m.keys('zh'), m.keys('en')])")
        assert keys[0] == keys[1], "both languages must have the same keys in the same order"

        # data shown as it is: the kiosk's location and id, the interpreter's id and name
        data = (config.kiosk.location, config.kiosk.id, *INTERPRETER)
        toggle_zh = "English"  # the toggle names the language it switches to

        async def check_both(what: str) -> None:
            zh = await rig.visible_text()
            assert "English" in zh
            assert _english_leftovers(zh, data + (toggle_zh,)) == [], f"{what}: English left in Chinese mode"
            await page.click("#lang-toggle")
            await expect(page.locator("html")).to_have_attribute("lang", "en")
            en = await rig.visible_text()
            rest = en
            for value in data:  # the kiosk location (and the call's subject) stay as they are
                rest = rest.replace(value, "")
            leftover = CJK.findall(rest)
            assert leftover == [], f"{what}: Chinese left in English mode: {''.join(leftover)!r}\n{en}"
            await page.click("#lang-toggle")
            await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

        await check_both("sign-in")
        await rig.log_in(password="wrong-password")
        await expect(page.locator("#login-error")).to_be_visible()
        await check_both("sign-in error")
        await rig.log_in_available()
        await check_both("available")

        await engine.request_call(category="社保")
        await expect(page.locator("#ring-panel")).to_be_visible(timeout=10_000)
        data = data + ("社保",)
        await check_both("ringing")

        await page.click("#accept")
        assert (await engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
        await expect(page.locator("#remote-waiting")).to_be_hidden(timeout=10_000)
        await page.click("#mute")
        await check_both("in call, muted")

        await page.click("#hangup")
        await expect(page.locator("#status-badge")).to_have_attribute("data-state", "wrap_up")
        await expect(page.locator("#history-rows tr")).to_have_count(1, timeout=10_000)
        await check_both("wrap-up with history")

        # "ready now" ends the wrap-up pause early
        await page.click("#wrap-up-ready")
        await expect(page.locator("#status-badge")).to_have_attribute("data-state", "available")
        await expect(page.locator("#wrap-up-row")).to_be_hidden()


# --- the link to dispatch and the camera ------------------------------------------------------


@pytest.mark.asyncio
async def test_link_recovers_by_itself_and_knows_when_to_stop(console_config, tmp_path):
    async with ConsoleRig(console_config(), tmp_path, kiosk=False) as rig:
        page, hub = rig.page, rig.dispatch.hub
        link = page.locator("#link-status")
        await rig.log_in_available()

        # the socket drops: the console reconnects with the token and is available again
        await hub.interpreters[INTERPRETER[0]].conn.close()
        await expect(link).not_to_have_attribute("data-phase", "up", timeout=5000)
        await expect(link).to_have_attribute("data-phase", "up", timeout=10_000)
        await eventually(lambda: INTERPRETER[0] in hub.interpreters
                         and hub.interpreters[INTERPRETER[0]].presence == "available",
                         what="presence restored after the reconnect")
        await expect(page.locator("#status-badge")).to_have_attribute("data-state", "available")

        # the same account opened in another tab: this one stops instead of fighting back
        other = await rig.new_page()
        await rig.log_in(page=other)
        await expect(other.locator("#link-status")).to_have_attribute("data-phase", "up")
        await expect(link).to_have_attribute("data-phase", "stopped")
        await expect(link).to_have_text("此账号已在其他窗口或设备上登录，本页已断开。")
        await asyncio.sleep(1.5)  # longer than the first back-off steps
        await expect(link).to_have_attribute("data-phase", "stopped")
        await page.click("#reconnect")
        await expect(link).to_have_attribute("data-phase", "up")
        await expect(other.locator("#link-status")).to_have_attribute("data-phase", "stopped")

        # the session ended on the server (logged out elsewhere, dispatch restarted): back to
        # the sign-in form at the next reconnect
        token = await rig.js("JSON.parse(sessionStorage.getItem('interpreter-console.session')).token")
        resp = await page.request.post(rig.base_url + "/api/logout", headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 204
        await hub.interpreters[INTERPRETER[0]].conn.close()
        await expect(page.locator("#login-panel")).to_be_visible(timeout=10_000)
        await expect(page.locator("#login-error")).to_have_text("登录已失效，请重新登录。")
        assert await rig.js("sessionStorage.getItem('interpreter-console.session')") is None


@pytest.mark.asyncio
async def test_reload_keeps_the_session_and_sign_out_ends_it(console_config, tmp_path):
    async with ConsoleRig(console_config(), tmp_path, kiosk=False) as rig:
        page, hub = rig.page, rig.dispatch.hub
        await rig.log_in()
        await expect(page.locator("#link-status")).to_have_attribute("data-phase", "up")
        await page.reload()
        await expect(page.locator("#desk-panel")).to_be_visible()
        await expect(page.locator("#link-status")).to_have_attribute("data-phase", "up")
        await expect(page.locator("#who")).to_have_text(f"译员：{INTERPRETER[2]}")
        await page.click("#logout")
        await expect(page.locator("#login-panel")).to_be_visible()
        await expect(page.locator("#login-error")).to_be_hidden()
        await eventually(lambda: INTERPRETER[0] not in hub.interpreters, what="socket closed at sign-out")


DENY_CAMERA = """
navigator.mediaDevices.getUserMedia = () =>
    Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


@pytest.mark.asyncio
async def test_without_camera_the_console_still_answers(console_config, tmp_path):
    config = console_config()
    async with ConsoleRig(config, tmp_path) as rig:
        engine = rig.engine
        page = rig.page = await rig.new_page(init_script=DENY_CAMERA)
        await rig.log_in()
        await page.click("#presence-available")
        media = page.locator("#media-text")
        await expect(media).to_have_text(re.compile("^无法使用摄像头或麦克风：浏览器未获得使用权限。"))
        await expect(page.locator("#media-retry")).to_be_visible()
        await expect(page.locator("#status-badge")).to_have_attribute("data-state", "available")

        await engine.request_call()
        await page.click("#accept", timeout=10_000)
        assert (await engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
        deadline = time.monotonic() + 20
        while (await rig.stats())["framesDecoded"] <= 20:
            assert time.monotonic() < deadline, "the kiosk's picture did not arrive"
            await asyncio.sleep(0.2)
        await expect(page.locator("#self-badges")).to_have_text("对方看不到也听不到您")
        await expect(page.locator("#mute")).to_be_disabled()
        assert engine.counters.video_received == 0
        await page.click("#hangup")
        assert (await engine.wait_for(S.ENDED, timeout=10)).reason is EndReason.COMPLETED


@pytest.mark.asyncio
@pytest.mark.parametrize("fps, warned", [(10, True), (25, False)])
async def test_a_low_frame_rate_gets_a_quiet_warning(console_config, tmp_path, fps, warned):
    """Signing needs 20 frames a second: a kiosk sending fewer for a few seconds is flagged on
    the interpreter's side too (the kiosk flags it on its own screen)."""
    config = console_config(video={"width": 320, "height": 240, "fps": fps})
    async with ConsoleRig(config, tmp_path) as rig:
        page, engine = rig.page, rig.engine
        await rig.log_in_available()
        await engine.request_call()
        await expect(page.locator("#ring-panel")).to_be_visible(timeout=10_000)
        await page.click("#accept")
        assert (await engine.wait_for(S.CONNECTED, S.ENDED, timeout=30)).state is S.CONNECTED
        note = page.locator("#call-quality")
        if warned:
            await expect(note).to_be_visible(timeout=10_000)
            await expect(note).to_have_text("画面帧率偏低，手语可能不够流畅")
        else:
            await asyncio.sleep(6)  # longer than the warning needs to appear
            await expect(note).to_be_hidden()
        await page.click("#hangup")
        await engine.wait_for(S.ENDED, timeout=10)
        assert rig.page_errors == []
