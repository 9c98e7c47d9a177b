#!/usr/bin/env python3
"""Render the call screen with the real-time text open and the on-screen keyboard up, to PNG in
docs/screens/ (call-text-zh-1920x1080.png, call-text-en-1920x1080.png, …, and the text-only
mode call-text-only-zh-1920x1080.png).

    .venv/bin/python scripts/render_text_screens.py [--out docs/screens]

A real demo call (embedded dispatch, simulated interpreter) in the kiosk window (under Xvfb when
there is no screen, as scripts/render_screens.py does). The
resident's text is typed on Qt's on-screen keyboard (Pinyin for Chinese); the simulated
interpreter does not type, so the interpreter's words are handed to the view-model as the
engine would.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_IM_MODULE", "qtvirtualkeyboard")  # before the QGuiApplication

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtGui import QGuiApplication  # noqa: E402

from kiosk.ui.app import KioskApp, pick_font  # noqa: E402
from scripts.render_screens import _display, demo_config, settle, wait  # noqa: E402
from tests.keyboard import VirtualKeyboard  # noqa: E402
from tests.test_ui_call import tap  # noqa: E402

SHOTS = {
    "zh": {"ui": "zh_CN", "keyboard": "zh_CN", "pinyin": ("nihao", "woxiang", "banshenfenzheng"),
           "interpreter": "您好，我是手语翻译员。\n请问您需要办理什么业务？"},
    "en": {"ui": "en", "keyboard": "en_US", "typed": "I want to renew my ID card",
           "interpreter": "Hello, I am your sign language interpreter.\nHow can I help you today?"},
}
SIZES = {"zh": ((1920, 1080), (1280, 800), (1080, 1920)), "en": ((1920, 1080), (1280, 800))}


def type_text(app, kiosk: KioskApp, keyboard: VirtualKeyboard, shot: dict) -> None:
    keyboard.set_locale(shot["keyboard"])
    wait(app, lambda: keyboard.locale == shot["keyboard"], 5, "keyboard language")
    if "pinyin" in shot:
        words = shot["pinyin"]
        for i, word in enumerate(words):
            for ch in word:
                keyboard.key(ch)
                settle(app, 0.02)
            if i < len(words) - 1:  # the last word stays composing: candidates on screen
                keyboard.choose(0)
                settle(app, 0.05)
    else:
        for ch in shot["typed"]:
            keyboard.key(ch)
            settle(app, 0.02)


def main() -> int:
    _display()  # video needs Qt Quick's GPU path: a real or virtual (Xvfb) screen
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    pick_font(app)
    with tempfile.TemporaryDirectory(prefix="kiosk-text-screens-") as tmp:
        for lang, shot in SHOTS.items():
            config = demo_config(Path(tmp) / lang, interpreters=1, answer_delay_s=0.3)
            kiosk = KioskApp(config, embedded_services=True, services_video=(640, 480, 15))
            kiosk.qml.setUiLanguage(shot["ui"])
            keyboard = VirtualKeyboard(kiosk.qml)
            try:
                kiosk.window.resize(*SIZES[lang][0])
                kiosk.window.show()
                kiosk.window.requestActivate()  # no window manager under Xvfb: focus for the keyboard
                kiosk.start()
                wait(app, lambda: kiosk.engine.signaling.connected, 15, "dispatch")
                settle(app, 0.3)
                tap(kiosk, "startCallButton")
                wait(app, lambda: kiosk.vm.screen == "call", 40, "the call")
                wait(app, lambda: kiosk.bridge.remote.shown > 10, 20, "the interpreter's picture")
                tap(kiosk, "textButton")
                wait(app, lambda: keyboard.visible, 5, "the keyboard")
                kiosk.vm.apply_remote_text(shot["interpreter"])
                type_text(app, kiosk, keyboard, shot)
                for w, h in SIZES[lang]:
                    kiosk.window.resize(w, h)
                    settle(app, 0.8)
                    path = args.out / f"call-text-{lang}-{w}x{h}.png"
                    if not kiosk.window.grabWindow().save(str(path)):
                        raise SystemExit(f"could not save {path}")
                    print("saved", path)
                if lang == "zh":  # text only: the text takes the screen, the call goes on
                    tap(kiosk, "textOnlyButton")
                    for w, h in ((1920, 1080),):
                        kiosk.window.resize(w, h)
                        settle(app, 0.8)
                        path = args.out / f"call-text-only-{lang}-{w}x{h}.png"
                        if not kiosk.window.grabWindow().save(str(path)):
                            raise SystemExit(f"could not save {path}")
                        print("saved", path)
                tap(kiosk, "hangUpButton")
                wait(app, lambda: kiosk.vm.screen == "rating", 10, "the rating screen")
            finally:
                keyboard.close()
                kiosk.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
