"""``kiosk run`` as the counter runs it: one instance only, and back on the Welcome screen
within 3 s after SIGKILL under the systemd unit's restart rule. The unit runs
scripts/kiosk_supervisor.py, which applies that rule to the kiosk; systemd itself cannot run in
this container, so the test runs the unit's ExecStart line (the supervisor and its flags) with
this checkout's paths. "On Welcome" is what the kiosk itself writes to status.json in its data
folder once a frame of Welcome is drawn."""

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

sys.path.insert(0, str(ROOT / "scripts"))
from kiosk_supervisor import RestartRule, read_rule, seconds  # noqa: E402

UNIT = ROOT / "deploy" / "systemd" / "counter-kiosk.service"
SUPERVISOR = ROOT / "scripts" / "kiosk_supervisor.py"
BACK_WITHIN_S = 3.0  # the bound, from SIGKILL to a drawn Welcome screen


def env() -> dict:
    e = dict(os.environ)
    e["QT_QPA_PLATFORM"] = "offscreen"
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def kiosk_run(config) -> list[str]:
    return [sys.executable, "-m", "kiosk", "run", "--config", str(config.source)]


def status(config) -> dict:
    try:
        return json.loads((config.data_path / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def wait_for_welcome(config, *, not_pid: int = 0, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = status(config)
        if s.get("pid") not in (None, not_pid) and s.get("screen") == "welcome" and s.get("drawn"):
            return s
        time.sleep(0.02)
    raise AssertionError(f"not on Welcome within {timeout} s: {status(config)}")


def parent_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return 0


def stop(proc: subprocess.Popen, timeout: float = 30) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def unit_supervisor_flags() -> list[str]:
    """The supervisor's flags in the unit's ExecStart (between the script and ``--``), with
    the unit file's own path replaced by this checkout's."""
    line = next(l for l in UNIT.read_text().splitlines() if l.startswith("ExecStart="))
    words = line.split("=", 1)[1].split()
    script = next(i for i, w in enumerate(words) if w.endswith("/scripts/kiosk_supervisor.py"))
    flags = words[script + 1:words.index("--")]
    if "--unit" in flags:
        flags[flags.index("--unit") + 1] = str(UNIT)
    return flags


def test_the_unit_restarts_always_within_a_second_and_not_on_purpose():
    text = UNIT.read_text(encoding="utf-8")
    assert "WantedBy=graphical-session.target" in text and "ExecStart=" in text
    assert "--standby" in unit_supervisor_flags() and "NotifyAccess=all" in text
    rule = read_rule(UNIT)
    assert rule.restart == "always" and rule.restart_sec <= 1.0
    assert {2, 4, 10} <= rule.prevent  # broken config, second instance, left on purpose
    assert rule.limit_burst >= 10 and rule.limit_interval_s > 0
    assert rule.restarts(-signal.SIGKILL) and rule.restarts(1) and rule.restarts(0)
    assert not rule.restarts(10) and not rule.restarts(2)
    assert seconds("500ms") == 0.5 and seconds("1s 500ms") == 1.5 and seconds("2min") == 120


def _supervise(tmp_path, code: str, unit_text: str, *flags: str) -> tuple[int, str]:
    unit = tmp_path / "test.service"
    unit.write_text(unit_text)
    proc = subprocess.run([sys.executable, str(SUPERVISOR), "--unit", str(unit), *flags, "--",
                           sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stderr


def test_supervisor_follows_the_rule_for_exits_and_crash_loops(tmp_path):
    unit = ("[Unit]\nStartLimitIntervalSec=60\nStartLimitBurst=3\n[Service]\nRestart=always\n"
            "RestartSec=100ms\nRestartPreventExitStatus=2 4 10\nSuccessExitStatus=10\n")
    # left on purpose: not started again; the code passed on (systemd leaves 10 alone too), or
    # mapped for launchd, which only knows "0 = do not restart"
    code, err = _supervise(tmp_path, "import sys; sys.exit(10)", unit)
    assert code == 10 and err.count("kiosk started (pid") == 1 and "not restarted" in err
    code, err = _supervise(tmp_path, "import sys; sys.exit(10)", unit, "--map-exit", "10=0")
    assert code == 0
    # a broken configuration: not started again, its exit code passed on
    code, err = _supervise(tmp_path, "import sys; sys.exit(2)", unit)
    assert code == 2 and err.count("kiosk started (pid") == 1
    # dies at once every time: three starts, then the supervisor gives up like systemd
    code, err = _supervise(tmp_path, "import os; os.kill(os.getpid(), 9)", unit)
    assert code == 1 and err.count("kiosk started (pid") == 3 and "giving up" in err
    assert "killed by signal 9" in err


@pytest.mark.slow
def test_a_second_kiosk_refuses_to_start_with_a_clear_message(demo_config):
    config = demo_config(simulator={"interpreters": 0})
    first = subprocess.Popen(kiosk_run(config), cwd=ROOT, env=env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        running = wait_for_welcome(config)
        assert running["pid"] == first.pid and running["kiosk_mode"] is True
        second = subprocess.run(kiosk_run(config), cwd=ROOT, env=env(), capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 4
        said = [line for line in second.stderr.splitlines() if line.startswith("kiosk: ")]
        assert len(said) == 1, second.stderr  # one line for the person at the terminal
        message = said[0]
        assert message.startswith("kiosk: cannot start: a kiosk is already running"), message
        assert f"process {first.pid}" in message and str(config.data_path) in message
        assert first.poll() is None and status(config)["pid"] == first.pid  # the first one goes on
    finally:
        assert stop(first) == 0
    assert not (config.data_path / "kiosk.lock").exists()
    assert status(config)["screen"] == "stopped"


@pytest.mark.slow
def test_after_sigkill_the_kiosk_is_back_on_welcome_within_3_s(demo_config, tmp_path):
    config = demo_config(simulator={"interpreters": 0})
    log_path = tmp_path / "supervisor.log"
    flags = unit_supervisor_flags()
    if "--standby" in flags:
        flags += ["--standby-delay", "0"]  # the standby at once (the unit waits 5 s at boot)
    with open(log_path, "w") as log:
        supervisor = subprocess.Popen([sys.executable, str(SUPERVISOR), *flags, "--",
                                       *kiosk_run(config)], cwd=ROOT, env=env(), stdout=log, stderr=log)
    try:
        current = wait_for_welcome(config)
        assert parent_of(current["pid"]) == supervisor.pid
        times = []
        for round_ in range(2):
            if "--standby" in flags:  # a standby loaded and waiting: what the restart uses
                deadline = time.monotonic() + 60
                while log_path.read_text().count("standby: loaded") <= round_:
                    assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                    time.sleep(0.1)
            old = current["pid"]
            killed_at = time.monotonic()
            os.kill(old, signal.SIGKILL)
            current = wait_for_welcome(config, not_pid=old, timeout=30)
            times.append(time.monotonic() - killed_at)
            assert parent_of(current["pid"]) == supervisor.pid
        print(f"back on Welcome after SIGKILL in {', '.join(f'{t:.2f}' for t in times)} s")
        assert all(t < BACK_WITHIN_S for t in times), times
    finally:
        code = stop(supervisor)
    text = log_path.read_text()
    assert code == 0, text[-3000:]
    assert text.count("kiosk died (killed by signal 9)") == 2
    if "--standby" in flags:
        assert text.count("kiosk started from the standby") == 2
    assert "kiosk stopped" in text  # SIGTERM to the supervisor ends the kiosk cleanly
    assert not (config.data_path / "kiosk.lock").exists()
