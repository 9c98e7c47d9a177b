#!/usr/bin/env python3
"""Keep the kiosk running where systemd cannot: the restart rule of the systemd unit, applied
by a small process that starts the kiosk and starts it again when it dies.

    scripts/kiosk_supervisor.py [--unit deploy/systemd/counter-kiosk.service] -- \\
        .venv/bin/kiosk run --config /etc/counter-kiosk/config.yaml

The rule is read from the unit file so there is one rule, not two: ``Restart`` (always,
on-failure or no), ``RestartSec``, ``RestartPreventExitStatus``, ``SuccessExitStatus``,
``StartLimitIntervalSec`` and ``StartLimitBurst``. As with systemd, a kiosk that dies more than
StartLimitBurst times within StartLimitIntervalSec is given up on (exit 1), and SIGTERM or
SIGINT to the supervisor stops the kiosk (SIGTERM, then SIGKILL after TimeoutStopSec) without a
restart. Standard library only: it runs with the system's python3 as well.
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
    def __init__(self, command: Sequence[str], rule: RestartRule) -> None:
        self.command = list(command)
        self.rule = rule
        self.child: Optional[subprocess.Popen] = None
        self.starts = 0
        self._stopping = threading.Event()
        self._recent: deque[float] = deque()

    def stop(self, *_args) -> None:
        """SIGTERM/SIGINT: stop the kiosk, do not start it again."""
        self._stopping.set()
        child = self.child
        if child is not None and child.poll() is None:
            child.terminate()

    def _start_allowed(self) -> bool:
        now = time.monotonic()
        if self.rule.limit_interval_s > 0 and self.rule.limit_burst > 0:
            while self._recent and now - self._recent[0] > self.rule.limit_interval_s:
                self._recent.popleft()
            if len(self._recent) >= self.rule.limit_burst:
                return False
        self._recent.append(now)
        return True

    def run(self) -> int:
        while not self._stopping.is_set():
            if not self._start_allowed():
                log.error("the kiosk started %d times within %.0f s and died each time: giving up "
                          "(StartLimitBurst/StartLimitIntervalSec)", self.rule.limit_burst,
                          self.rule.limit_interval_s)
                return 1
            self.starts += 1
            self.child = subprocess.Popen(self.command)
            log.info("kiosk started (pid %d, start %d)", self.child.pid, self.starts)
            code = self._wait(self.child)
            if self._stopping.is_set():
                log.info("kiosk stopped (exit %s)", code)
                return 0
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            if not self.rule.restarts(code):
                log.info("kiosk ended (%s): not restarted (Restart=%s)", how, self.rule.restart)
                return 0 if code in self.rule.success else (code if code > 0 else 1)
            log.warning("kiosk died (%s): starting it again in %.1f s", how, self.rule.restart_sec)
            if self._stopping.wait(self.rule.restart_sec):
                return 0
        return 0

    def _wait(self, child: subprocess.Popen) -> int:
        while True:
            try:
                code = child.wait(timeout=0.2)
                return code
            except subprocess.TimeoutExpired:
                if self._stopping.is_set():
                    try:
                        return child.wait(timeout=self.rule.stop_timeout_s)
                    except subprocess.TimeoutExpired:
                        log.warning("kiosk did not stop within %.0f s: killing it", self.rule.stop_timeout_s)
                        child.kill()
                        return child.wait()


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                usage="%(prog)s [--unit FILE] -- COMMAND [ARG ...]")
    p.add_argument("--unit", type=Path, default=UNIT, help=f"systemd unit to take the rule from (default {UNIT})")
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
    supervisor = Supervisor(command, rule)
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGBREAK"):  # SIGHUP: POSIX; SIGBREAK: Windows
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), supervisor.stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
