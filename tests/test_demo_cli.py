"""The ``kiosk`` command as a user runs it: headless demo calls, crash recovery, broken
configuration files, and the demo window's first screen."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from kiosk.sessions import SessionStore

pytestmark = pytest.mark.slow


def kiosk_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "kiosk", *args]


def env() -> dict:
    e = dict(os.environ)
    e["QT_QPA_PLATFORM"] = "offscreen"
    return e


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_headless_demo_places_three_calls_and_prints_complete_records(demo_config):
    config = demo_config()
    result = subprocess.run(kiosk_cmd("demo", "--headless", "--calls", "3", "--call-seconds", "1",
                                      "--config", str(config.source)),
                            cwd=ROOT, env=env(), capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [line["record"] for line in json_lines(result.stdout) if "record" in line]
    assert len(records) == 3
    assert len({r["session_id"] for r in records}) == 3
    for r in records:
        assert r["end_reason"] == "completed" and r["state"] == "ended"
        assert r["interpreter_id"] == "sim-interpreter-1"
        assert r["kiosk_id"] == config.kiosk.id
        assert r["rating"] in (1, 2, 3, 4, 5)
        assert r["wait_s"] > 0 and r["talk_s"] >= 1.0
        assert r["requested_at"] < r["answered_at"] <= r["connected_at"] < r["ended_at"]
    with SessionStore(config.data_path / "sessions.sqlite3") as store:
        assert {r.session_id for r in store.list_sessions()} == {r["session_id"] for r in records}


def test_sigkill_mid_call_leaves_a_record_closed_as_interrupted_at_next_start(demo_config):
    config = demo_config()
    proc = subprocess.Popen(kiosk_cmd("demo", "--headless", "--calls", "1", "--call-seconds", "120",
                                      "--config", str(config.source)),
                            cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    session_id = None
    try:
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            data = json.loads(line) if line.startswith("{") else {}
            session_id = data.get("session_id", session_id)
            if data.get("state") == "connected":
                break
            assert time.monotonic() < deadline, "the call never connected"
        assert session_id
        time.sleep(0.5)  # mid-call
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    db = config.data_path / "sessions.sqlite3"
    with SessionStore(db) as store:
        assert store.integrity_ok()
        left = store.get(session_id)
        assert left.is_open and left.state == "connected"

    result = subprocess.run(kiosk_cmd("demo", "--headless", "--calls", "0", "--config", str(config.source)),
                            cwd=ROOT, env=env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    closed = [line["closed_at_startup"] for line in json_lines(result.stdout) if "closed_at_startup" in line]
    assert [c["session_id"] for c in closed] == [session_id]
    with SessionStore(db) as store:
        rec = store.get(session_id)
    assert rec.end_reason == "interrupted" and rec.ended_by == "system"
    assert rec.answered_at is not None and rec.connected_at is not None


BROKEN = {
    "invalid YAML": ("kiosk:\n\tid: x\n", "line 2", "invalid YAML"),
    "unknown key": (None, "line", "vidoe"),
    "missing required key": ("kiosk:\n  location: x\ndispatch:\n  url: ws://h/ws\n  token: t\n", "line 1", "'id'"),
    "wrong type": (None, "line", "video.fps"),
}


def _broken_text(kind: str) -> str:
    good = (ROOT / "config.yaml").read_text(encoding="utf-8")
    if kind == "unknown key":
        return good.replace("\nvideo:", "\nvidoe:", 1)
    if kind == "wrong type":
        import re
        return re.sub(r"(\n\s+fps:)\s*\d+", r"\1 thirty", good, count=1)
    return BROKEN[kind][0]


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_config_stops_with_clear_message_and_no_window(tmp_path, kind):
    path = tmp_path / "config.yaml"
    path.write_text(_broken_text(kind), encoding="utf-8")
    probe = (
        "import sys\n"
        "from kiosk.cli import main\n"
        f"rc = main(['demo', '--config', {str(path)!r}])\n"
        "print('QT_LOADED' if any(m.startswith('PySide6') for m in sys.modules) else 'NO_QT')\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env(), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout.strip() == "NO_QT"  # nothing of the window was even loaded
    _, where, what = BROKEN[kind]
    first = result.stderr.splitlines()[0]
    assert first.startswith("kiosk: cannot start: ")
    assert where in first and what in first and "config.yaml" in first


def test_demo_window_starts_on_welcome_screen(tmp_path, demo_config):
    config = demo_config()
    shot = tmp_path / "welcome.png"
    result = subprocess.run(kiosk_cmd("demo", "--screenshot", str(shot), "--config", str(config.source)),
                            cwd=ROOT, env=env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"screenshot of the welcome screen saved to {shot}" in result.stdout
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert not image.isNull() and image.width() >= 640
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 37)}
    assert len(colours) > 3  # a drawn screen, not an empty window


def test_sigterm_stops_the_kiosk_window_cleanly(demo_config):
    config = demo_config()
    proc = subprocess.Popen(kiosk_cmd("demo", "--windowed", "--config", str(config.source)),
                            cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        for line in proc.stderr:
            if "connected to dispatch" in line and "as kiosk" in line:
                break
            assert time.monotonic() < deadline, "the kiosk never connected"
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "kiosk stopped" in rest


def test_devices_command_lists_what_the_machine_has(demo_config):
    config = demo_config()
    result = subprocess.run(kiosk_cmd("devices", "--config", str(config.source)), cwd=ROOT, env=env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("cameras")
    assert any(line.startswith(("microphones", "audio:")) for line in lines)


def test_set_pin_stores_only_a_hash_and_refuses_a_bad_pin(demo_config):
    config = demo_config()
    run = lambda pin: subprocess.run(  # noqa: E731
        kiosk_cmd("set-pin", "--pin-stdin", "--config", str(config.source)), cwd=ROOT, env=env(),
        input=pin + "\n", capture_output=True, text=True, timeout=60)
    bad = run("12ab")
    assert bad.returncode == 1 and "kiosk set-pin:" in bad.stderr
    good = run("4711")
    assert good.returncode == 0, good.stderr[-2000:]
    stored = (config.data_path / "admin-pin.json").read_text()
    assert "4711" not in stored and "scrypt" in stored
    from kiosk.sessions.pin import PinStore

    store = PinStore(config.data_path / "admin-pin.json")
    assert store.check("4711").ok and not store.check("1234").ok
