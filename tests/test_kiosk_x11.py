"""Kiosk mode on a real X server with a real window manager: Xvfb and Openbox, keys typed
through XTEST (xdotool) and the window manager's close request (wmctrl, and Openbox's own
Alt+F4). The window stays up, full screen and frameless; the technician keys (no PIN set) end
the kiosk with the "left on purpose" exit code."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT

TOOLS = ("Xvfb", "openbox", "xdotool", "wmctrl", "xprop")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                 reason="needs " + ", ".join(TOOLS) + " (scripts/system-deps.sh)")]


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def x_display(tmp_path):
    """Xvfb on a free display number, with Openbox managing its windows."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    display = f":{number}"
    env = dict(os.environ, DISPLAY=display)
    env.pop("QT_QPA_PLATFORM", None)
    wm = subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(lambda: subprocess.run(["wmctrl", "-m"], env=env, capture_output=True).returncode == 0, 10,
         "the window manager")
    yield env
    for proc in (wm, xvfb):
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_keys_and_the_window_manager_cannot_close_the_kiosk(x_display, demo_config, tmp_path):
    env = dict(x_display, PYTHONPATH=str(ROOT))
    config = demo_config(dispatch={"embedded": False}, simulator={"interpreters": 0})
    status_file = config.data_path / "status.json"
    log_path = tmp_path / "kiosk.log"
    with open(log_path, "w") as log:
        kiosk = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(config.source)],
                                 cwd=ROOT, env=env, stdout=log, stderr=log)

    def status() -> dict:
        try:
            return json.loads(status_file.read_text())
        except (OSError, ValueError):
            return {}

    def xdo(*args: str) -> str:
        return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=10).stdout

    try:
        wait(lambda: status().get("drawn") and status().get("screen") == "welcome", 60, "Welcome")
        window = wait(lambda: xdo("search", "--onlyvisible", "--pid", str(kiosk.pid)).split(), 10,
                      "the kiosk's window")[0]

        def net_wm_state() -> str:
            return subprocess.run(["xprop", "-id", window, "_NET_WM_STATE"], env=env, capture_output=True,
                                  text=True).stdout

        wait(lambda: "_NET_WM_STATE_FULLSCREEN" in net_wm_state(), 10, "full screen")
        assert "_NET_WM_STATE_ABOVE" in net_wm_state()
        assert "1280x800" in xdo("getwindowgeometry", window)

        xdo("windowactivate", "--sync", window)
        for keys in ("alt+F4", "Escape", "ctrl+q", "ctrl+w"):
            xdo("key", "--clearmodifiers", keys)
            time.sleep(0.3)
        subprocess.run(["wmctrl", "-i", "-c", window], env=env, check=True, timeout=10)  # the close button's request
        time.sleep(1.0)

        assert kiosk.poll() is None, log_path.read_text()[-3000:]
        assert xdo("search", "--onlyvisible", "--pid", str(kiosk.pid)).split() == [window]
        assert "_NET_WM_STATE_FULLSCREEN" in net_wm_state()
        text = log_path.read_text()
        # Openbox turned Alt+F4 into a close request like wmctrl's: both refused
        assert text.count("kiosk mode: closing the window refused") == 2, text[-3000:]
        for key in ("Esc", "Ctrl+Q", "Ctrl+W"):
            assert f"kiosk mode: {key} refused" in text, text[-3000:]
        assert status()["screen"] == "welcome" and status()["pid"] == kiosk.pid

        # the technician keys, no admin PIN set: kiosk mode ends on purpose
        xdo("key", "--clearmodifiers", "ctrl+alt+shift+F12")
        assert kiosk.wait(timeout=30) == 10
        assert "leaving kiosk mode: the technician keys" in log_path.read_text()
    finally:
        if kiosk.poll() is None:
            kiosk.send_signal(signal.SIGTERM)
            try:
                kiosk.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kiosk.kill()
                kiosk.wait()
