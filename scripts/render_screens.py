#!/usr/bin/env python3
"""Render every kiosk screen to PNG in docs/screens/, from a real demo call, in both languages.

    .venv/bin/python scripts/render_screens.py [--out docs/screens] [--check] [--report FILE]

The kiosk runs with its embedded dispatch and simulated interpreter; the script taps through a
whole call (Welcome → Connecting → In call → Rating). In the call it opens the real-time text
(``call-text``: the interpreter's words, the resident's typed on Qt's on-screen keyboard, Pinyin
with its candidates in Chinese), gives the text the screen (``call-text-only``), and cuts the
interpreter's media so the call reconnects (``call-reconnecting``). Then the technicians'
device check, a call nobody can take (the notice screen) and Welcome outside the service hours
with other ways to reach the service (``welcome-out-of-hours``), grabbing each screen at
1280×800, 1920×1080 and 1080×1920.
Then the counter staff's panel and the admin area: the PIN pad (and a wrong PIN), the menu,
the usage log over a fortnight of made-up sessions, one session's details and the reports.
Every grab is taken in Chinese (``<screen>-<W>x<H>.png``) and, switched live, in English
(``<screen>-en-<W>x<H>.png``).

``--check`` also measures every grab (the test suite runs it so): each text fits its box (not
cut off, not wider or taller than its box, inside the screen and its clipping parents, not on
top of another text), every touch target is at least 12 mm on this screen (its physical DPI)
and never under 64 px (the on-screen keyboard's keys and Pinyin candidates too), every control
has an accessible name and role and a pictogram (Qt's keyboard excepted: it offers its keys to
no assistive technology), the call button is the biggest thing on Welcome, and the texts shown.
It exits 1 when something is wrong, listing each problem; ``--report`` writes all of it as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import re
import random
import shutil
import socket
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Optional
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QObject, QRectF  # noqa: E402
from PySide6.QtGui import QAccessible, QGuiApplication  # noqa: E402
from PySide6.QtQml import QQmlEngine, QQmlExpression  # noqa: E402
from PySide6.QtQuick import QQuickItem  # noqa: E402

from kiosk.config import Alternative, load_config  # noqa: E402
from kiosk.sessions.pin import PIN_FILE, PinStore  # noqa: E402
from kiosk.ui.app import KioskApp, pick_font, use_onscreen_keyboard  # noqa: E402
from tests.keyboard import VirtualKeyboard  # noqa: E402

SIZES = ((1280, 800), (1920, 1080), (1080, 1920))
LANGUAGES = ("zh_CN", "en")
PICTOGRAMS = ROOT / "assets" / "pictograms"
# screens a resident sees (larger minimum text there); the others are for staff and technicians
RESIDENT_SCREENS = ("welcome", "connecting", "call", "rating", "notice")
RESIDENT_TEXT_MM, RESIDENT_TEXT_PX = 4.0, 22  # the smallest text a resident reads at arm's length
STAFF_TEXT_PX = 14
CONTROL_ROLES = {QAccessible.Role.Button, QAccessible.Role.ComboBox, QAccessible.Role.Row,
                 QAccessible.Role.CheckBox, QAccessible.Role.RadioButton, QAccessible.Role.ListItem,
                 QAccessible.Role.Link, QAccessible.Role.PageTab, QAccessible.Role.MenuItem}
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(app: QGuiApplication, predicate, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"render_screens: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def settle(app: QGuiApplication, seconds: float) -> None:
    wait(app, lambda end=time.monotonic() + seconds: time.monotonic() > end, seconds + 1)


def demo_config(data_dir: Path, interpreters: int, answer_delay_s: float):
    config = load_config(ROOT / "config.yaml")
    port = free_port()
    return dataclasses.replace(
        config,
        kiosk=dataclasses.replace(config.kiosk, data_dir=str(data_dir)),
        dispatch=dataclasses.replace(config.dispatch, url=f"ws://127.0.0.1:{port}/ws"),
        server=dataclasses.replace(config.server, port=port),
        video=dataclasses.replace(config.video, width=640, height=480),
        simulator=dataclasses.replace(config.simulator, interpreters=interpreters,
                                      answer_delay_s=answer_delay_s),
    )


class Grabber:
    """Saves each screen at every size in every language, measuring it when ``checker`` is set."""

    def __init__(self, app: QGuiApplication, out: Path, checker: Optional["LayoutCheck"] = None,
                 sizes=SIZES, languages=LANGUAGES) -> None:
        self.app, self.out, self.checker = app, out, checker
        self.sizes, self.languages = sizes, languages

    def __call__(self, kiosk: KioskApp, name: str, prepare=None) -> None:
        """``prepare(language)``: what the screen shows in that language beyond its own
        words (the texts typed in a call), set after the switch."""
        for language in self.languages:
            kiosk.languages.setLanguage(language)
            if prepare is not None:
                prepare(language)
            for w, h in self.sizes:
                kiosk.window.resize(w, h)
                settle(self.app, 0.35)
                suffix = "" if language == LANGUAGES[0] else f"-{language}"
                path = self.out / f"{name}{suffix}-{w}x{h}.png"
                if not kiosk.window.grabWindow().save(str(path)):
                    raise SystemExit(f"render_screens: could not write {path}")
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", flush=True)
                if self.checker is not None:
                    self.checker.run(kiosk, name, language, (w, h))
        kiosk.languages.reset()
        kiosk.window.resize(*self.sizes[0])


# --- measuring a screen -----------------------------------------------------------------------

def touch_minimum_px(dpi: float) -> int:
    """12 mm at ``dpi`` (device-independent dots per inch, as Qt gives it), never under 64 px."""
    return max(64, math.ceil(12 * dpi / 25.4))


def touch_minimum(kiosk: KioskApp) -> int:
    """The touch minimum on the window's screen, from its physical DPI."""
    return touch_minimum_px(kiosk.window.screen().physicalDotsPerInch())


def _eval(item: QObject, expression: str):
    """A QML expression in ``item``'s scope (reads what PySide6 cannot convert, such as enums);
    None for an item made in C++ without a QML context (the charts' own labels)."""
    context = QQmlEngine.contextForObject(item)
    if context is None:
        return None
    value, failed = QQmlExpression(context, item, expression).evaluate()
    return None if failed else value


def _attached_accessible(item: QQuickItem) -> Optional[QObject]:
    for child in item.children():
        if child.metaObject().className() == "QQuickAccessibleAttached":
            return child
    return None


def _walk(item: QQuickItem, parents=()):
    """Visible items under ``item`` (itself included) with their ancestors, depth first."""
    if not item.isVisible() or item.opacity() <= 0.01:
        return
    yield item, parents
    for child in sorted(item.childItems(), key=lambda c: c.z()):
        yield from _walk(child, parents + (item,))


def _scene_rect(item: QQuickItem, rect: Optional[QRectF] = None) -> QRectF:
    return item.mapRectToScene(rect if rect is not None else QRectF(0, 0, item.width(), item.height()))


def _inside(inner: QRectF, outer: QRectF, slack: float = 1.5) -> bool:
    return (inner.left() >= outer.left() - slack and inner.top() >= outer.top() - slack
            and inner.right() <= outer.right() + slack and inner.bottom() <= outer.bottom() + slack)


def _text_rect(item: QQuickItem) -> QRectF:
    """Where the letters of a Text are, in its own coordinates (alignment taken into account)."""
    w, h = item.width(), item.height()
    cw, ch = float(item.property("contentWidth")), float(item.property("contentHeight"))
    ha, va = int(_eval(item, "effectiveHorizontalAlignment") or 0), int(_eval(item, "verticalAlignment") or 0)
    x = (w - cw) / 2 if ha & 0x4 else (w - cw) if ha & 0x2 else 0.0  # AlignHCenter, AlignRight
    y = (h - ch) / 2 if va & 0x80 else (h - ch) if va & 0x40 else 0.0  # AlignVCenter, AlignBottom
    return QRectF(x, y, cw, ch)


def _on_screen_keyboard(item: QQuickItem, parents) -> bool:
    """Part of Qt's on-screen keyboard (its InputPanel): drawn and made touchable by Qt."""
    return any(p.metaObject().className().startswith("InputPanel") for p in (*parents, item))


def _is_key(item: QQuickItem) -> bool:
    """A key of the on-screen keyboard (its BaseKey: the touch cell of one key)."""
    return item.metaObject().indexOfProperty("keyPanelDelegate") >= 0


def _name(item: QQuickItem, parents) -> str:
    named = [p.objectName() for p in parents if p.objectName()] + [item.objectName()]
    kind = item.metaObject().className().split("_QML")[0].replace("QQuick", "")
    return "/".join(n for n in named[-2:] if n) + f" ({kind})"


class LayoutCheck:
    def __init__(self) -> None:
        self.problems: list[dict] = []
        self.grabs: list[dict] = []

    def _problem(self, kind: str, where: dict, what: str) -> None:
        self.problems.append({"kind": kind, **where, "what": what})
        print(f"  PROBLEM [{kind}] {where['screen']} {where['language']} {where['size']}: {what}", flush=True)

    def run(self, kiosk: KioskApp, screen: str, language: str, size: tuple[int, int]) -> None:
        window = kiosk.window
        where = {"screen": screen, "language": language, "size": f"{size[0]}x{size[1]}"}
        win = QRectF(0, 0, window.width(), window.height())
        dpi = window.screen().physicalDotsPerInch()
        px_per_mm = dpi / 25.4
        minimum = touch_minimum(kiosk)
        theme_minimum = _eval(kiosk.find("welcomeScreen"), "Theme.touchMin")
        if theme_minimum is None or abs(float(theme_minimum) - minimum) > 0.5:
            self._problem("touch", where, f"Theme.touchMin is {theme_minimum}, the screen needs {minimum}")
        resident = screen.split("-")[0] in RESIDENT_SCREENS
        smallest_text = max(RESIDENT_TEXT_PX, RESIDENT_TEXT_MM * px_per_mm) if resident else STAFF_TEXT_PX

        # a dialog open over a page (a session's details, a list of choices): only it counts,
        # the page behind cannot be seen through it or touched
        top = window.contentItem()
        for item, _ in _walk(window.contentItem()):
            if _attached_accessible(item) is not None:
                iface = QAccessible.queryAccessibleInterface(item)
                if iface is not None and iface.role() == QAccessible.Role.Dialog:
                    top = item
        texts, targets, controls = [], [], []
        for item, parents in _walk(top):
            if item.inherits("QQuickText"):
                texts.append((item, parents))
            elif item.inherits("QQuickMouseArea") and item.isEnabled():
                targets.append((item, parents))
            elif (_is_key(item) and item.isEnabled() and item.width() > 0
                  and not item.metaObject().className().startswith("FillerKey")):  # a gap, no key
                targets.append((item, parents))  # its touches go through the keyboard's own area
            if item.metaObject().className().startswith("BigButton"):
                controls.append(item)

        # 1. every text fits its box
        placed = []
        for item, parents in texts:
            text = item.property("text") or ""
            if not text.strip():
                continue
            label = f"{_name(item, parents)} {text!r}"
            rect = _scene_rect(item, _text_rect(item))
            flick = next((p for p in reversed(parents) if p.inherits("QQuickFlickable")), None)
            if flick is not None and not _scene_rect(flick).intersects(rect):
                continue  # scrolled out of sight
            if (flick is not None and _on_screen_keyboard(item, parents)
                    and not _inside(rect, _scene_rect(flick), 2)):
                continue  # a candidate word the keyboard's list has partly scrolled away
            if flick is not None and flick.clip():
                rect = rect.intersected(_scene_rect(flick))  # what can be seen of a scrolling text
            if item.property("truncated"):
                self._problem("text", where, f"{label} is cut off ({item.property('lineCount')} lines)")
            # labels a chart makes and places itself (no QML of ours), and the on-screen
            # keyboard's (its style centres a letter taller than the label's box on its key):
            # only where they land counts
            charted = QQmlEngine.contextForObject(item) is None
            own_box = not charted and not _on_screen_keyboard(item, parents)
            if own_box and float(item.property("contentWidth")) > item.width() + 1.5:
                self._problem("text", where, f"{label} is {item.property('contentWidth'):.0f} px wide "
                                            f"in a box of {item.width():.0f}")
            if own_box and float(item.property("contentHeight")) > item.height() + 1.5:
                self._problem("text", where, f"{label} is {item.property('contentHeight'):.0f} px tall "
                                            f"in a box of {item.height():.0f}")
            if not _inside(rect, win):
                self._problem("text", where, f"{label} runs off the screen")
            for p in reversed(parents):
                if p.clip() and not p.inherits("QQuickFlickable") and not _inside(rect, _scene_rect(p)):
                    self._problem("text", where, f"{label} is clipped by {_name(p, ())}")
                    break
            box = next((p for p in reversed(parents) if p.inherits("QQuickRectangle")), None)
            if box is not None and flick is not None and parents.index(box) < parents.index(flick):
                box = None  # a box around a scrolling text: the part scrolled away is not out of it
            if box is not None and not charted and not _inside(rect, _scene_rect(box)):
                self._problem("text", where, f"{label} sticks out of {_name(box, ())}")
            size_px = item.property("font").pixelSize()
            if 0 < size_px < smallest_text - 0.5:
                self._problem("text-size", where, f"{label} is {size_px} px, under {smallest_text:.0f}")
            key = next((p for p in reversed(parents) if _is_key(p)), None)
            placed.append((label, rect.adjusted(1, 1, -1, -1), item, key))
        for i, (label_a, a, _, key_a) in enumerate(placed):
            for label_b, b, _, key_b in placed[i + 1:]:
                if key_a is not None and key_a is key_b:
                    continue  # a key's letter and its hint of more letters, as its style draws them
                if a.intersects(b):
                    self._problem("overlap", where, f"{label_a} overlaps {label_b}")

        # 2. touch targets (the on-screen keyboard's keys and candidate words too), and 3. what
        # assistive technology is told about each
        names = []
        keyboard_targets = 0
        for item, parents in targets:
            rect = _scene_rect(item)
            flick = next((p for p in reversed(parents) if p.inherits("QQuickFlickable")), None)
            if flick is not None and not _inside(rect, _scene_rect(flick), 2):
                continue  # partly scrolled away
            label = _name(item, parents)
            if item.width() < minimum - 0.5 or item.height() < minimum - 0.5:
                self._problem("touch", where, f"{label} is {item.width():.0f}×{item.height():.0f} px, "
                                              f"under {minimum} px")
            if not _inside(rect, win):
                self._problem("touch", where, f"{label} runs off the screen")
            for p in reversed(parents):
                if p.clip() and not p.inherits("QQuickFlickable") and not _inside(rect, _scene_rect(p)):
                    self._problem("touch", where, f"{label} is cut by {_name(p, ())}")
                    break
            if _on_screen_keyboard(item, parents):
                keyboard_targets += 1
                continue  # Qt's keyboard: its keys are not offered to assistive technology
            own = _attached_accessible(item)
            if own is not None and own.property("ignored"):
                continue  # a modal blocker or the hidden admin gesture, said so in the QML
            holder = next((p for p in (item, *reversed(parents)) if _attached_accessible(p) is not None), None)
            iface = QAccessible.queryAccessibleInterface(holder) if holder is not None else None
            role = iface.role() if iface is not None else None
            name = iface.text(QAccessible.Text.Name) if iface is not None else ""
            if role not in CONTROL_ROLES or not name.strip():
                self._problem("accessible", where, f"{label}: role {role}, name {name!r}")
            else:
                names.append(name)

        # 4. a pictogram with every action
        for button in controls:
            icon = button.property("icon") or ""
            if button.property("wordsOnly"):
                continue
            if not icon:
                self._problem("pictogram", where, f"{_name(button, ())} {button.property('text')!r} has no pictogram")
            elif not (PICTOGRAMS / f"{icon}.svg").exists():
                self._problem("pictogram", where, f"{_name(button, ())}: {icon}.svg is missing")

        # 5. the call button is the biggest thing on Welcome
        if screen == "welcome":
            start = kiosk.find("startCallButton")
            area = start.width() * start.height()
            for item, parents in targets + texts:
                if item.parentItem() is start or start in parents or item is start:
                    continue
                if item.width() * item.height() >= area and not (item.inherits("QQuickMouseArea") and
                                                                 _attached_accessible(item) is not None and
                                                                 _attached_accessible(item).property("ignored")):
                    self._problem("main-button", where, f"{_name(item, parents)} is as big as the call button")

        self.grabs.append({**where, "touch_min_px": minimum, "dpi": dpi,
                           "texts": [t for t, _, _, _ in placed],
                           "strings": [it.property("text") for _, _, it, _ in placed],
                           "accessible_names": names, "targets": len(targets),
                           "keyboard_targets": keyboard_targets})


# the real-time text in a call: the interpreter's words come from the engine (the simulated
# interpreter does not type), the resident's are typed on the on-screen keyboard
TEXTS = {
    "zh_CN": {"keyboard": "zh_CN", "pinyin": ("nihao", "woxiang", "banshenfenzheng"),
              "interpreter": "您好，我是手语翻译员。\n请问您需要办理什么业务？"},
    "en": {"keyboard": "en_US", "typed": "I want to renew my ID card",
           "interpreter": "Hello, I am your sign language interpreter.\nHow can I help you today?"},
}


def fill_text(app: QGuiApplication, kiosk: KioskApp, keyboard: VirtualKeyboard, language: str) -> None:
    """Both text areas in ``language``, typed anew; in Chinese the last Pinyin syllables stay
    composing, so the candidates show above the keys."""
    shot = TEXTS[language]
    panel = kiosk.find("textPanel")
    _eval(panel, "Qt.inputMethod.reset()")
    kiosk.vm.typeText("")
    kiosk.vm.apply_remote_text(shot["interpreter"])
    _eval(panel, "residentField.forceActiveFocus()")
    wait(app, lambda: keyboard.visible, 5, "the on-screen keyboard")
    wait(app, lambda: keyboard.locale == shot["keyboard"], 5, "the keyboard's language")
    if "pinyin" in shot:
        words = shot["pinyin"]
        for i, word in enumerate(words):
            for ch in word:
                keyboard.key(ch)
                settle(app, 0.02)
            if i < len(words) - 1:  # the last word stays composing: candidates on screen
                keyboard.choose(0)
                settle(app, 0.05)
        wait(app, lambda: keyboard.candidates(), 5, "Pinyin candidates")
    else:
        for ch in shot["typed"]:
            keyboard.key(ch)
            settle(app, 0.02)
        wait(app, lambda: kiosk.vm.residentText == shot["typed"], 5, "the typed text")


def out_of_hours_config(data_dir: Path):
    """Weekdays 08:30–17:30 and three other ways to reach the service; see ``CLOSED_AT``."""
    config = demo_config(data_dir, 0, 1.0)
    days = {d: ((8 * 60 + 30, 17 * 60 + 30),) if d not in ("sat", "sun") else ()
            for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    hours = dataclasses.replace(config.service_hours, weekly=MappingProxyType(days), alternatives=(
        Alternative("text_hotline", "95105"), Alternative("sms", "12110"),
        Alternative("web", "www.example.gov.cn/shouyu")))
    return dataclasses.replace(config, service_hours=hours)


# a Saturday evening: closed until Monday morning (the longest opening text, with the day's name)
CLOSED_AT = datetime(2026, 11, 28, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

DEMO_PIN = "246810"


def seed_sessions(kiosk: KioskApp, days: int = 14, seed: int = 7) -> int:
    """A fortnight of made-up sessions (through the engine's own store, on its thread), so the
    usage log and the reports have something to show."""
    config = kiosk.config
    zone = ZoneInfo(config.service_hours.timezone)
    rng = random.Random(seed)
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    plan = []
    for day in range(days, -1, -1):
        for _ in range(rng.randint(1, 7)):
            at = today - timedelta(days=day) + timedelta(hours=rng.uniform(8.5, 17), minutes=rng.uniform(0, 59))
            if at.timestamp() > time.time() - 600:
                continue
            staff = rng.random() < 0.35
            reason = rng.choices(["completed", "cancelled_by_caller", "no_interpreter", "network_lost",
                                  "dispatch_unreachable"], weights=[78, 9, 7, 4, 2])[0]
            plan.append((at.timestamp(), "staff" if staff else "resident",
                         rng.choice(config.kiosk.categories) if staff else None, reason,
                         rng.lognormvariate(3.0, 0.7), rng.uniform(120, 1500),
                         rng.choices([5, 4, 3, 2, 1, None], weights=[40, 25, 10, 4, 2, 19])[0],
                         rng.uniform(22, 30), rng.uniform(0, 3), rng.uniform(30, 160)))

    async def write() -> None:
        store = kiosk.engine.store
        for at, who, category, reason, wait, talk, rating, fps, loss, rtt in plan:
            sid = str(uuid.uuid4())
            store.begin(sid, config.kiosk.id, who, category, "demo", at)
            answered = reason in ("completed", "network_lost")
            if not answered:
                store.end(sid, reason, at + min(wait, 90), "kiosk")
                continue
            store.transition(sid, "queued", at + 1)
            store.transition(sid, "ringing", at + wait * 0.7)
            store.transition(sid, "connecting", at + wait, interpreter_id=f"interp-{rng.randint(1, 4)}")
            store.transition(sid, "connected", at + wait + 1.5)
            quality = {"samples": int(talk), "fps_in": {"median": round(fps, 1), "worst": round(fps - 6, 1)},
                       "fps_out": {"median": 30.0, "worst": 27.0},
                       "kbps_in": {"median": 850.0, "worst": 420.0}, "kbps_out": {"median": 900.0, "worst": 480.0},
                       "loss_pct": {"median": round(loss, 1), "worst": round(loss * 3, 1)},
                       "rtt_ms": {"median": round(rtt), "worst": round(rtt * 2.5)},
                       "low_fps_seconds": 0.0 if fps > 24 else 6.0, "smallest_scale": 1.0 if fps > 24 else 0.75}
            end = at + wait + 1.5 + talk
            store.end(sid, reason, end, "kiosk" if reason == "completed" else "system",
                      quality=json.dumps(quality))
            store.rate(sid, rating, end + 12)

    kiosk.thread.call(write(), 30)
    return len(plan)


def unlock_admin(app: QGuiApplication, kiosk: KioskApp, pin: str) -> None:
    for digit in pin:
        kiosk.admin.pinDigit(digit)
    kiosk.admin.pinSubmit()
    wait(app, lambda: kiosk.admin.page == "menu", what="the admin menu")


def _display() -> None:
    """Video is drawn by the GPU path of Qt Quick, which the offscreen platform lacks: use the
    real screen, or a virtual one (Xvfb) when there is none."""
    if (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform != "linux"
            or os.environ.get("QT_QPA_PLATFORM")):
        return
    if shutil.which("xvfb-run") and not os.environ.get("RENDER_SCREENS_NESTED"):
        os.environ["RENDER_SCREENS_NESTED"] = "1"
        os.environ["QT_QPA_PLATFORM"] = "xcb"
        dpi = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--dpi=")), "96")
        os.execvp("xvfb-run", ["xvfb-run", "-a", "-s", f"-screen 0 1920x1920x24 -dpi {dpi}",
                               sys.executable, *sys.argv])
    print("render_screens: no screen and no xvfb-run: video will be missing", file=sys.stderr)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    _display()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    parser.add_argument("--check", action="store_true",
                        help="measure every grab (texts fit, touch targets, accessibility); exit 1 on a problem")
    parser.add_argument("--report", type=Path, help="write the measurements as JSON to this file")
    parser.add_argument("--dpi", type=int, default=96,
                        help="the virtual screen's physical DPI when the script starts Xvfb itself "
                             "(write --dpi=N): a 10-inch 1280×800 panel is about 150")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    checker = LayoutCheck() if args.check or args.report else None

    # the keyboard, before the QGuiApplication; nothing typed here stays in the user's config
    use_onscreen_keyboard()
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    pick_font(app)
    grab = Grabber(app, args.out, checker)
    with tempfile.TemporaryDirectory() as tmp:
        # a whole answered call
        pins = PinStore(Path(tmp) / "a" / PIN_FILE)
        pins.set_pin(DEMO_PIN)
        kiosk = KioskApp(demo_config(Path(tmp) / "a", 1, 9.0), embedded_services=True, pin_store=pins)
        kiosk.window.resize(*SIZES[0])
        kiosk.window.show()
        kiosk.start()
        try:
            wait(app, lambda: kiosk.vm.online, what="the link to dispatch")
            settle(app, 0.5)
            grab(kiosk, "welcome")
            kiosk.vm.startCall()
            wait(app, lambda: kiosk.vm.callState == "ringing", what="ringing")
            settle(app, 1.2)
            grab(kiosk, "connecting")
            wait(app, lambda: kiosk.vm.screen == "call", what="the call")
            wait(app, lambda: kiosk.bridge.remote.shown > 20 and kiosk.bridge.local.shown > 20,
                 what="video on both sides")
            settle(app, 2.0)  # past the answer flash
            grab(kiosk, "call")
            # the real-time text with the on-screen keyboard up, then text only
            keyboard = VirtualKeyboard(kiosk.qml)
            kiosk.window.requestActivate()  # no window manager under Xvfb: focus for the keyboard
            kiosk.vm.openText()
            wait(app, lambda: kiosk.find("textPanel").isVisible(), 5, "the text panel")
            grab(kiosk, "call-text", lambda language: fill_text(app, kiosk, keyboard, language))
            kiosk.vm.setTextOnly(True)
            grab(kiosk, "call-text-only", lambda language: fill_text(app, kiosk, keyboard, language))
            _eval(kiosk.find("textPanel"), "Qt.inputMethod.reset()")
            kiosk.vm.closeText()
            keyboard.close()
            # the interpreter's side drops its media without a word and is slow to take the
            # kiosk's new offer (held until the grabs are done): the kiosk reconnects
            sim = kiosk.services.interpreters[0]
            answer = sim._answer

            async def lose_media() -> asyncio.Event:
                back = asyncio.Event()

                async def answer_later(offer) -> None:
                    await back.wait()
                    await answer(offer)

                sim._answer = answer_later
                pc, sim._pc = sim._pc, None
                await pc.close()
                return back

            back = kiosk.services_thread.call(lose_media())
            wait(app, lambda: kiosk.vm.reconnecting, 15, "reconnecting")
            wait(app, lambda: kiosk.vm.reconnectingSeconds >= 6, 15, "the seconds counted")
            grab(kiosk, "call-reconnecting")
            kiosk.services_thread.loop.call_soon_threadsafe(back.set)
            wait(app, lambda: not kiosk.vm.reconnecting, 60, "the picture back")
            kiosk.vm.hangUp()
            wait(app, lambda: kiosk.vm.screen == "rating", what="the rating screen")
            grab(kiosk, "rating")
            kiosk.vm.rate(5)
            wait(app, lambda: kiosk.vm.screen == "welcome", what="back to welcome")
            # the technicians' device check, every row tested
            kiosk.vm.openDeviceCheck()
            wait(app, lambda: all(kiosk.vm.check.get(row, {}).get("result") == "pass"
                                  for row in ("camera", "microphone", "dispatch")), what="device check")
            kiosk.vm.playTestTone()
            kiosk.vm.confirmSpeaker(True)
            wait(app, lambda: kiosk.vm.check["speaker"]["result"] == "pass", what="speaker confirmed")
            settle(app, 1.0)
            grab(kiosk, "devicecheck")
            kiosk.vm.closeDeviceCheck()
            # counter staff pick the matter before the call
            kiosk.vm.openStaffPanel()
            grab(kiosk, "staff")
            kiosk.vm.closeStaffPanel()
            # the admin area: held corner, PIN pad, menu, usage log, a session, reports
            seed_sessions(kiosk)
            kiosk.vm.openAdmin()
            wait(app, lambda: not kiosk.admin.pinBusy, what="the PIN pad")
            for digit in "13":
                kiosk.admin.pinDigit(digit)
            grab(kiosk, "admin-pin")
            for digit in "57":
                kiosk.admin.pinDigit(digit)
            kiosk.admin.pinSubmit()
            wait(app, lambda: kiosk.admin.pinError == "wrong", what="a wrong PIN")
            grab(kiosk, "admin-pin-wrong")
            unlock_admin(app, kiosk, DEMO_PIN)
            grab(kiosk, "admin-menu")
            kiosk.admin.openLog()
            kiosk.admin.setPeriodKind("all")
            wait(app, lambda: not kiosk.admin.loading, what="the usage log")
            grab(kiosk, "admin-log")
            first_answered = next(i for i, r in enumerate(kiosk.admin.sessions.records)
                                  if r.connected_at is not None)
            kiosk.admin.showDetails(first_answered)
            wait(app, lambda: kiosk.admin.detail.get("events"), what="the session's details")
            grab(kiosk, "admin-details")
            kiosk.admin.closeDetails()
            kiosk.admin.back()
            kiosk.admin.openReport()
            kiosk.admin.setPeriodKind("all")  # the made-up fortnight and the call above
            wait(app, lambda: kiosk.admin.report.get("ready"), what="the report")
            settle(app, 1.0)
            grab(kiosk, "admin-report")
            kiosk.admin.close()
        finally:
            kiosk.shutdown()
        # a call nobody can take
        kiosk = KioskApp(demo_config(Path(tmp) / "b", 0, 1.0), embedded_services=True)
        kiosk.window.resize(*SIZES[0])
        kiosk.window.show()
        kiosk.start()
        try:
            wait(app, lambda: kiosk.vm.online, what="the link to dispatch")
            kiosk.vm.startCall()
            wait(app, lambda: kiosk.vm.screen == "notice", what="the notice screen")
            grab(kiosk, "notice")
        finally:
            kiosk.shutdown()
        # Welcome outside the service hours, with the other ways to reach the service
        kiosk = KioskApp(out_of_hours_config(Path(tmp) / "c"), embedded_services=True)
        kiosk.vm.clock = lambda: CLOSED_AT
        kiosk.vm.refreshHours()
        kiosk.window.resize(*SIZES[0])
        kiosk.window.show()
        kiosk.start()
        try:
            wait(app, lambda: kiosk.vm.online, what="the link to dispatch")
            wait(app, lambda: kiosk.vm.outOfHours and kiosk.find("outOfHours").isVisible(), 5, "out of hours")
            grab(kiosk, "welcome-out-of-hours")
        finally:
            kiosk.shutdown()
    if checker is None:
        return 0
    if args.report:
        args.report.write_text(json.dumps({"problems": checker.problems, "grabs": checker.grabs},
                                          ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"checked {len(checker.grabs)} grabs: {len(checker.problems)} problem(s)")
    return 1 if checker.problems and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
