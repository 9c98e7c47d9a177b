"""The on-screen keyboard keeps no words the resident typed.

Qt Virtual Keyboard's Pinyin learns the words a user picks into
``<config>/qtvirtualkeyboard/pinyin/usr_dict.dat`` (Qt's generic config location: its own
``userDataPath`` setting does not move it). The kiosk gives its process a private config folder
(``kiosk.ui.app.use_onscreen_keyboard``). Here a real kiosk in its own process, with a home of
its own, types Chinese through the real Pinyin in a real call, ends the call and quits: nothing
of it stays under that home's config folder, the private folder is gone, and the kiosk's data
folder (platformdirs) did not move. The same run without the private folder is the control: the
words do land in the home's config folder, so the test can see a leak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CHILD = r'''
import dataclasses, json, os, socket, sys, time
from pathlib import Path

private = None
if sys.argv[1] == "private":
    from kiosk.ui.app import use_onscreen_keyboard
    private = use_onscreen_keyboard()
else:
    os.environ["QT_IM_MODULE"] = "qtvirtualkeyboard"

from PySide6.QtGui import QGuiApplication
from kiosk.config import load_config
from kiosk.ui.app import KioskApp
from kiosk.ui.viewmodel import pinyin_user_dictionary
from tests.keyboard import VirtualKeyboard

def wait(app, predicate, what, timeout=40.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for " + what)
        app.processEvents()
        time.sleep(0.01)

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

app = QGuiApplication(sys.argv[:1])
config = load_config(Path(sys.argv[2]))
port = free_port()
config = dataclasses.replace(
    config,
    dispatch=dataclasses.replace(config.dispatch, url=f"ws://127.0.0.1:{port}/ws"),
    server=dataclasses.replace(config.server, port=port),
    video=dataclasses.replace(config.video, width=160, height=120),
    simulator=dataclasses.replace(config.simulator, interpreters=1, answer_delay_s=0.3))
data_before = str(config.data_path)
kiosk = KioskApp(config, embedded_services=True, services_video=(160, 120, 10))
keyboard = VirtualKeyboard(kiosk.qml)
kiosk.window.resize(1280, 800)
kiosk.window.show()
kiosk.start()
wait(app, lambda: kiosk.vm.online, "dispatch")
kiosk.vm.startCall()
wait(app, lambda: kiosk.vm.screen == "call", "the call")
kiosk.vm.openText()
field = kiosk.find("residentText")
field.forceActiveFocus()
wait(app, lambda: keyboard.visible, "the keyboard")
keyboard.set_locale("zh_CN")
wait(app, lambda: keyboard.locale == "zh_CN", "Pinyin")
for word in ("shenfenzheng", "huzhao", "shenfenzheng"):
    for ch in word:
        keyboard.key(ch)
        app.processEvents()
    wait(app, lambda: keyboard.candidates(), "candidates")
    keyboard.choose(0)
    wait(app, lambda: not keyboard.preedit, "the word chosen")
typed = kiosk.vm.residentText
linked = {p.name: str(p.resolve()) for p in private.iterdir() if p.is_symlink()} if private else {}
dictionary = pinyin_user_dictionary()
kiosk.vm.hangUp()
wait(app, lambda: kiosk.vm.screen == "rating", "the rating screen")
kiosk.vm.rate(5)
keyboard.close()
kiosk.shutdown()
print("RESULT " + json.dumps({"typed": typed, "dictionary": str(dictionary), "private": str(private),
                              "data_before": data_before, "data_after": str(config.data_path),
                              "linked": linked}), flush=True)
'''


def run_kiosk(tmp_path: Path, mode: str) -> tuple[dict, Path]:
    home = tmp_path / mode / "home"
    home.mkdir(parents=True)
    (home / ".config" / "pulse").mkdir(parents=True)  # something of the user's own to keep seeing
    config = tmp_path / mode / "config.yaml"
    config.write_text((ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_CONFIG", "XDG_DATA", "KIOSK_"))}
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(home / ".local" / "share"),
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", CHILD, mode, str(config)], capture_output=True,
                            text=True, timeout=240, env=env, cwd=ROOT)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return json.loads(lines[0][len("RESULT "):]), home


def words_file(home: Path) -> Path:
    return home / ".config" / "qtvirtualkeyboard" / "pinyin" / "usr_dict.dat"


def test_words_typed_through_pinyin_stay_nowhere_under_the_users_config(tmp_path):
    result, home = run_kiosk(tmp_path, "private")
    assert "身份证" in result["typed"] and "护照" in result["typed"]  # Pinyin did its work
    private = Path(result["private"])
    # while it ran, the keyboard's words went to the private folder …
    assert Path(result["dictionary"]).is_relative_to(private)
    assert not private.is_relative_to(home)
    # … which is gone with the process; the user's config folder has none of it
    assert not private.exists()
    leaked = words_file(home)
    assert not leaked.exists() or leaked.stat().st_size == 0
    assert not (home / ".config" / "qtvirtualkeyboard").exists()
    # the rest of the user's config is seen through the private folder, and untouched
    assert result["linked"] == {"pulse": str((home / ".config" / "pulse").resolve())}
    assert (home / ".config" / "pulse").is_dir()
    # the kiosk's own data folder is where it always was (platformdirs, XDG_DATA_HOME)
    assert result["data_before"] == result["data_after"]


def test_control_without_the_private_folder_the_words_land_in_the_users_config(tmp_path):
    """Shows the test above can see a leak: the same kiosk run, keyboard set up by hand."""
    result, home = run_kiosk(tmp_path, "plain")
    assert "身份证" in result["typed"]
    assert Path(result["dictionary"]) == words_file(home)
    assert words_file(home).exists() and words_file(home).stat().st_size > 0


def test_a_folder_left_by_a_killed_kiosk_goes_when_the_next_one_starts(tmp_path):
    """SIGKILL or a crash skips the clean-up at exit: the next kiosk removes what was left."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    left = runtime / f"kiosk-config-{dead.stdout.strip()}-abc123"
    (left / "qtvirtualkeyboard" / "pinyin").mkdir(parents=True)
    (left / "qtvirtualkeyboard" / "pinyin" / "usr_dict.dat").write_bytes("身份证".encode("utf-16-le"))
    alive = runtime / f"kiosk-config-{os.getpid()}-def456"  # a kiosk still running: kept
    alive.mkdir()
    other = runtime / "kiosk-config-notes"  # not a kiosk's folder: kept
    other.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_CONFIG")}
    env.update(XDG_RUNTIME_DIR=str(runtime), HOME=str(tmp_path / "home"),
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    code = ("import os; from kiosk.ui.app import use_onscreen_keyboard; p = use_onscreen_keyboard(); "
            "print(p, os.environ['XDG_CONFIG_HOME'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    made, config_home = result.stdout.split()
    assert made == config_home and Path(made).parent == runtime  # in the user's runtime folder
    assert not left.exists()
    assert alive.is_dir() and other.is_dir()
    assert not Path(made).exists()  # its own folder went when it ended
