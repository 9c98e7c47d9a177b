#!/usr/bin/env python3
"""Render every kiosk screen to PNG in docs/screens/, from a real demo call.

    .venv/bin/python scripts/render_screens.py [--out docs/screens]

The kiosk runs offscreen with its embedded dispatch and simulated interpreter; the script taps
through a whole call (Welcome → Connecting → In call → Rating) and then the technicians'
device check and a call nobody can take (the notice screen), grabbing each screen at 1280×800, 1920×1080 and 1080×1920.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtGui import QGuiApplication  # noqa: E402

from kiosk.config import load_config  # noqa: E402
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
        kiosk = KioskApp(demo_config(Path(tmp) / "a", 1, 4.0), embedded_services=True)
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
