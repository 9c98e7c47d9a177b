#!/usr/bin/env python3
"""Keep the kiosk running: the restart rule of the systemd unit, applied by a small process that
starts the kiosk and starts it again when it dies. The unit runs it; launchd and Windows' Shell
Launcher run it too, and it runs on its own where nothing else can.

    scripts/kiosk_supervisor.py [--standby] [--unit deploy/systemd/counter-kiosk.service] -- \\
        .venv/bin/kiosk run --config /etc/counter-kiosk/config.yaml

The rule is read from the unit file so there is one rule, not two: ``Restart`` (always,
on-failure or no), ``RestartSec``, ``RestartPreventExitStatus``, ``SuccessExitStatus``,
``StartLimitIntervalSec`` and ``StartLimitBurst``. As with systemd, a kiosk that dies more than
StartLimitBurst times within StartLimitIntervalSec is given up on (exit 1), and SIGTERM or
SIGINT to the supervisor stops the kiosk (SIGTERM, then SIGKILL after TimeoutStopSec) without a
restart. A kiosk that ends with an exit code it is not restarted for (RestartPreventExitStatus:
left on purpose, broken configuration) ends the supervisor with the same code (``--map-exit``
changes it). ``--standby`` keeps a loaded second copy ready, so a restart does not wait for
Python, Qt and the call engine to load (the systemd unit runs the supervisor this way).
Standard library only: it runs with the system's python3 as well.
"""

from __future__ import annotations

import argparse
import configparser
import logging
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

UNIT = Path(__file__).resolve().parents[1] / "deploy" / "systemd" / "counter-kiosk.service"
log = logging.getLogger("kiosk-supervisor")


@dataclass(frozen=True)
class RestartRule:
    restart: str = "always"  # always, on-failure, no
    restart_sec: float = 0.1  # systemd's default
    prevent: frozenset[int] = field(default_factory=frozenset)  # exit codes never restarted
    success: frozenset[int] = field(default_factory=lambda: frozenset({0}))
    limit_interval_s: float = 10.0  # systemd's defaults
    limit_burst: int = 5
    stop_timeout_s: float = 90.0

    def restarts(self, code: int) -> bool:
        """Whether a kiosk that ended with ``code`` (negative: killed by that signal) is
        started again."""
        if code in self.prevent or self.restart == "no":
            return False
        if self.restart == "always":
            return True
        return code not in self.success  # on-failure: signals and unclean exit codes


_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "ms": 0.001, "msec": 0.001, "m": 60.0, "min": 60.0}


def seconds(text: str) -> float:
    """A systemd time span: "1", "500ms", "1s 500ms", "2min"."""
    total, found = 0.0, False
    for number, unit in re.findall(r"([0-9.]+)\s*([a-z]*)", text.strip().lower()):
        if unit not in _UNITS:
            raise ValueError(f"unknown time unit in {text!r}")
        total += float(number) * _UNITS[unit]
        found = True
    if not found:
        raise ValueError(f"not a time span: {text!r}")
    return total


def read_rule(unit: Path) -> RestartRule:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys keep their case
    with open(unit, encoding="utf-8") as f:
        parser.read_file(f)
    service = parser["Service"] if parser.has_section("Service") else {}
    unit_section = parser["Unit"] if parser.has_section("Unit") else {}

    def codes(text: str) -> frozenset[int]:
        return frozenset(int(c) for c in text.split() if c.isdigit())

    rule = RestartRule()
    return RestartRule(
        restart=service.get("Restart", "no").strip(),
        restart_sec=seconds(service["RestartSec"]) if "RestartSec" in service else rule.restart_sec,
        prevent=codes(service.get("RestartPreventExitStatus", "")),
        success=frozenset({0}) | codes(service.get("SuccessExitStatus", "")),
        limit_interval_s=(seconds(unit_section["StartLimitIntervalSec"])
                          if "StartLimitIntervalSec" in unit_section else rule.limit_interval_s),
        limit_burst=int(unit_section.get("StartLimitBurst", rule.limit_burst)),
        stop_timeout_s=(seconds(service["TimeoutStopSec"])
                        if "TimeoutStopSec" in service else rule.stop_timeout_s),
    )


class Supervisor:
    """Runs ``command`` and starts it again by ``rule``.

    ``standby``: keep a second copy of the kiosk started with ``--standby`` (it loads Python, Qt
    and the call engine, then waits for a line on its standard input). When the kiosk dies the
    standby is told to go on after ``RestartSec``: the restart then costs the screen's set-up,
    not the loading, which on a slow or busy terminal is most of the start. A new standby is
    started ``standby_delay_s`` later."""

    def __init__(self, command: Sequence[str], rule: RestartRule, *, standby: bool = False,
                 standby_delay_s: float = 5.0, exit_map: Optional[dict[int, int]] = None) -> None:
        self.command = list(command)
        self.rule = rule
        self.standby_wanted = standby
        self.standby_delay_s = standby_delay_s
        self.exit_map = dict(exit_map or {})
        self.child: Optional[subprocess.Popen] = None
        self.standby: Optional[subprocess.Popen] = None
        self.starts = 0
        self._child_started = 0.0
        self._stopping = threading.Event()
        self._recent: deque[float] = deque()

    def stop(self, *_args) -> None:
        """SIGTERM/SIGINT: stop the kiosk, do not start it again."""
        self._stopping.set()
        for proc in (self.child, self.standby):
            if proc is not None and proc.poll() is None:
                proc.terminate()

    def _start_allowed(self) -> bool:
        now = time.monotonic()
        if self.rule.limit_interval_s > 0 and self.rule.limit_burst > 0:
            while self._recent and now - self._recent[0] > self.rule.limit_interval_s:
                self._recent.popleft()
            if len(self._recent) >= self.rule.limit_burst:
                return False
        self._recent.append(now)
        return True

    def _start(self) -> None:
        """The kiosk proper: the standby if one is ready, else a new process."""
        self.starts += 1
        standby, self.standby = self.standby, None
        if standby is not None and standby.poll() is None:
            try:
                standby.stdin.write(b"go\n")
                standby.stdin.flush()
                self.child = standby
                log.info("kiosk started from the standby (pid %d, start %d)", standby.pid, self.starts)
            except OSError:
                standby.kill()
                standby.wait()
                self.child = None
        if self.child is None or self.child is not standby:
            self.child = subprocess.Popen(self.command)
            log.info("kiosk started (pid %d, start %d)", self.child.pid, self.starts)
        self._child_started = time.monotonic()

    def _keep_standby(self) -> None:
        if not self.standby_wanted or self._stopping.is_set():
            return
        if self.standby is not None and self.standby.poll() is not None:
            log.warning("the standby kiosk ended (exit %s)", self.standby.returncode)
            self.standby = None
        if self.standby is None and time.monotonic() - self._child_started >= self.standby_delay_s:
            self.standby = subprocess.Popen(self.command + ["--standby"], stdin=subprocess.PIPE)
            log.info("standby kiosk loading (pid %d)", self.standby.pid)

    def _end_standby(self) -> None:
        standby, self.standby = self.standby, None
        if standby is not None:
            if standby.poll() is None:
                standby.terminate()
            try:
                standby.wait(timeout=10)
            except subprocess.TimeoutExpired:
                standby.kill()
                standby.wait()

    def run(self) -> int:
        try:
            return self._run()
        finally:
            self._end_standby()

    def _run(self) -> int:
        while not self._stopping.is_set():
            if not self._start_allowed():
                log.error("the kiosk started %d times within %.0f s and died each time: giving up "
                          "(StartLimitBurst/StartLimitIntervalSec)", self.rule.limit_burst,
                          self.rule.limit_interval_s)
                return 1
            self.child = None
            self._start()
            code = self._wait(self.child)
            if self._stopping.is_set():
                log.info("kiosk stopped (exit %s)", code)
                return 0
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            if not self.rule.restarts(code):
                log.info("kiosk ended (%s): not restarted (Restart=%s)", how, self.rule.restart)
                result = code if code > 0 else (0 if code == 0 else 1)
                return self.exit_map.get(result, result)
            log.warning("kiosk died (%s): starting it again in %.1f s", how, self.rule.restart_sec)
            if self._stopping.wait(self.rule.restart_sec):
                return 0
        return 0

    def _wait(self, child: subprocess.Popen) -> int:
        while True:
            try:
                return child.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                if self._stopping.is_set():
                    try:
                        return child.wait(timeout=self.rule.stop_timeout_s)
                    except subprocess.TimeoutExpired:
                        log.warning("kiosk did not stop within %.0f s: killing it", self.rule.stop_timeout_s)
                        child.kill()
                        return child.wait()
                self._keep_standby()


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                usage="%(prog)s [--unit FILE] -- COMMAND [ARG ...]")
    p.add_argument("--unit", type=Path, default=UNIT, help=f"systemd unit to take the rule from (default {UNIT})")
    p.add_argument("--standby", action="store_true",
                   help="keep a loaded second copy (COMMAND --standby) ready for a fast restart")
    p.add_argument("--standby-delay", type=float, default=5.0, metavar="SECONDS",
                   help="start the standby this long after the kiosk (default 5)")
    p.add_argument("--map-exit", action="append", default=[], metavar="FROM=TO",
                   help="exit with TO when the kiosk ended with FROM and is not restarted "
                        "(e.g. 10=0 for launchd)")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("the command to run is missing (after --)")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        rule = read_rule(args.unit)
    except (OSError, ValueError, KeyError, configparser.Error) as exc:
        print(f"kiosk-supervisor: cannot read the restart rule from {args.unit}: {exc}", file=sys.stderr)
        return 2
    log.info("restart rule from %s: Restart=%s RestartSec=%.1fs, at most %d starts in %.0f s",
             args.unit, rule.restart, rule.restart_sec, rule.limit_burst, rule.limit_interval_s)
    try:
        exit_map = {int(a): int(b) for a, b in (m.split("=", 1) for m in args.map_exit)}
    except ValueError:
        p.error("--map-exit wants FROM=TO with two numbers, e.g. 10=0")
    supervisor = Supervisor(command, rule, standby=args.standby, standby_delay_s=args.standby_delay,
                            exit_map=exit_map)
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGBREAK"):  # SIGHUP: POSIX; SIGBREAK: Windows
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), supervisor.stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
