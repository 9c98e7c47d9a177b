#!/usr/bin/env python3
"""Render every kiosk screen to PNG in docs/screens/, from a real demo call.

    .venv/bin/python scripts/render_screens.py [--out docs/screens]

The kiosk runs offscreen with its embedded dispatch and simulated interpreter; the script taps
through a whole call (Welcome → Connecting → In call → Rating) and then the technicians'
device check and a call nobody can take (the notice screen), grabbing each screen at 1280×800, 1920×1080 and 1080×1920.
Then the counter staff's panel and the admin area: the PIN pad (and a wrong PIN), the menu,
the usage log over a fortnight of made-up sessions, one session's details and the reports.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtGui import QGuiApplication  # noqa: E402

from kiosk.config import load_config  # noqa: E402
from kiosk.sessions.pin import PIN_FILE, PinStore  # noqa: E402
from kiosk.ui.app import KioskApp, pick_font  # noqa: E402

SIZES = ((1280, 800), (1920, 1080), (1080, 1920))


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


def grab_all(app: QGuiApplication, kiosk: KioskApp, name: str, out: Path) -> None:
    for w, h in SIZES:
        kiosk.window.resize(w, h)
        settle(app, 0.4)
        path = out / f"{name}-{w}x{h}.png"
        if not kiosk.window.grabWindow().save(str(path)):
            raise SystemExit(f"render_screens: could not write {path}")
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    kiosk.window.resize(*SIZES[0])


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
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform != "linux":
        return
    if shutil.which("xvfb-run") and not os.environ.get("RENDER_SCREENS_NESTED"):
        os.environ["RENDER_SCREENS_NESTED"] = "1"
        os.environ["QT_QPA_PLATFORM"] = "xcb"
        os.execvp("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1920x1920x24",
                               sys.executable, *sys.argv])
    print("render_screens: no screen and no xvfb-run: video will be missing", file=sys.stderr)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    _display()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    pick_font(app)
    with tempfile.TemporaryDirectory() as tmp:
        # a whole answered call
        pins = PinStore(Path(tmp) / "a" / PIN_FILE)
        pins.set_pin(DEMO_PIN)
        kiosk = KioskApp(demo_config(Path(tmp) / "a", 1, 4.0), embedded_services=True, pin_store=pins)
        kiosk.window.resize(*SIZES[0])
        kiosk.window.show()
        kiosk.start()
        try:
            wait(app, lambda: kiosk.vm.online, what="the link to dispatch")
            settle(app, 0.5)
            grab_all(app, kiosk, "welcome", args.out)
            kiosk.vm.startCall()
            wait(app, lambda: kiosk.vm.callState == "ringing", what="ringing")
            settle(app, 1.2)
            grab_all(app, kiosk, "connecting", args.out)
            wait(app, lambda: kiosk.vm.screen == "call", what="the call")
            wait(app, lambda: kiosk.bridge.remote.shown > 20 and kiosk.bridge.local.shown > 20,
                 what="video on both sides")
            settle(app, 2.0)  # past the answer flash
            grab_all(app, kiosk, "call", args.out)
            kiosk.vm.hangUp()
            wait(app, lambda: kiosk.vm.screen == "rating", what="the rating screen")
            grab_all(app, kiosk, "rating", args.out)
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
            grab_all(app, kiosk, "devicecheck", args.out)
            kiosk.vm.closeDeviceCheck()
            # counter staff pick the matter before the call
            kiosk.vm.openStaffPanel()
            grab_all(app, kiosk, "staff", args.out)
            kiosk.vm.closeStaffPanel()
            # the admin area: held corner, PIN pad, menu, usage log, a session, reports
            seed_sessions(kiosk)
            kiosk.vm.openAdmin()
            wait(app, lambda: not kiosk.admin.pinBusy, what="the PIN pad")
            for digit in "13":
                kiosk.admin.pinDigit(digit)
            grab_all(app, kiosk, "admin-pin", args.out)
            for digit in "57":
                kiosk.admin.pinDigit(digit)
            kiosk.admin.pinSubmit()
            wait(app, lambda: kiosk.admin.pinError == "wrong", what="a wrong PIN")
            grab_all(app, kiosk, "admin-pin-wrong", args.out)
            unlock_admin(app, kiosk, DEMO_PIN)
            grab_all(app, kiosk, "admin-menu", args.out)
            kiosk.admin.openLog()
            kiosk.admin.setPeriodKind("all")
            wait(app, lambda: not kiosk.admin.loading, what="the usage log")
            grab_all(app, kiosk, "admin-log", args.out)
            first_answered = next(i for i, r in enumerate(kiosk.admin.sessions.records)
                                  if r.connected_at is not None)
            kiosk.admin.showDetails(first_answered)
            wait(app, lambda: kiosk.admin.detail.get("events"), what="the session's details")
            grab_all(app, kiosk, "admin-details", args.out)
            kiosk.admin.closeDetails()
            kiosk.admin.back()
            kiosk.admin.openReport()
            kiosk.admin.setPeriodKind("all")  # the made-up fortnight and the call above
            wait(app, lambda: kiosk.admin.report.get("ready"), what="the report")
            settle(app, 1.0)
            grab_all(app, kiosk, "admin-report", args.out)
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
            grab_all(app, kiosk, "notice", args.out)
        finally:
            kiosk.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
